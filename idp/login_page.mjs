// The residents' sign-in page: zh-CN first, English second. Every interpolated value is escaped.
const ESCAPES = {
  '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;',
};
export const escapeHtml = (value) => String(value).replace(/[&<>"']/g, (c) => ESCAPES[c]);

const STYLE = `body{font-family:system-ui,"PingFang SC","Microsoft YaHei",sans-serif;max-width:26rem;
margin:3rem auto;padding:0 1rem;color:#1b1b1b}h1{font-size:1.4rem}label{display:block;margin:.8rem 0 .2rem}
input{width:100%;padding:.5rem;box-sizing:border-box}button{margin-top:1rem;padding:.5rem 1.2rem}
.error{color:#a30000;border:1px solid #a30000;padding:.5rem}.en{color:#555;font-size:.9em}`;

function page(title, body) {
  return `<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title><style>${STYLE}</style></head>
<body>${body}</body></html>`;
}

export function loginPage({
  uid, csrf, clientName, fresh, error,
}) {
  const action = `/interaction/${encodeURIComponent(uid)}`;
  return page('居民登录 / Resident sign-in', `
<h1>居民登录 <span class="en">/ Resident sign-in</span></h1>
<p>登录以继续访问 <strong>${escapeHtml(clientName)}</strong>
<span class="en">/ Sign in to continue to ${escapeHtml(clientName)}</span></p>
${fresh ? '<p>此操作需要您重新登录确认。<span class="en">/ This action needs a fresh sign-in.</span></p>' : ''}
${error ? '<p class="error" role="alert">用户名或密码错误。<span class="en">/ Wrong user name or password.</span></p>' : ''}
<form method="post" action="${action}/login" autocomplete="off">
<input type="hidden" name="csrf" value="${escapeHtml(csrf)}">
<label for="login">用户名 <span class="en">/ User name</span></label>
<input id="login" name="login" required autofocus>
<label for="password">密码 <span class="en">/ Password</span></label>
<input id="password" name="password" type="password" required>
<button type="submit">登录 / Sign in</button>
</form>
<form method="post" action="${action}/abort">
<input type="hidden" name="csrf" value="${escapeHtml(csrf)}">
<button type="submit">取消 / Cancel</button>
</form>`);
}

export function errorPage(zh, en) {
  return page('登录失败 / Sign-in failed', `
<h1>登录失败 <span class="en">/ Sign-in failed</span></h1>
<p>${escapeHtml(zh)} <span class="en">/ ${escapeHtml(en)}</span></p>`);
}
