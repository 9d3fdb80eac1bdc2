"""The console's words, zh-CN first and English on request (``?lang=en``, kept in a cookie)."""

from __future__ import annotations

from fastapi import Request

LANGS = ("zh", "en")

WORDS: dict[str, tuple[str, str]] = {
    "title": ("德信 · 数据可用不可见", "Dexin · data usable, never visible"),
    "login": ("登录", "Sign in"),
    "logout": ("退出", "Sign out"),
    "officer_login": ("审批官员登录", "Officer and auditor sign-in"),
    "subject_login": (
        "仅限开发环境：凭身份证号登录（DEXIN_UNSAFE_DEV_IDENTITY）",
        "Development only: sign in by ID number (DEXIN_UNSAFE_DEV_IDENTITY)",
    ),
    "resident_login": ("居民登录", "Residents"),
    "resident_login_hint": (
        "在政务身份认证平台（浙里办）登录，以证明您的身份；每次授权或撤回授权都需重新登录确认。",
        "Sign in at the authority's identity provider (浙里办); every consent and every withdrawal"
        " asks you to sign in again to confirm it.",
    ),
    "resident_login_idp": ("前往身份认证平台登录", "Sign in at the identity provider"),
    "no_identity_provider": ("未配置居民身份认证平台", "No identity provider is configured"),
    "idp_unavailable": (
        "身份认证平台暂时无法访问，请稍后重试",
        "The identity provider cannot be reached; try again later",
    ),
    "sign_in_refused": (
        "身份认证未通过或已过期，请重新登录",
        "The sign-in was refused or has expired; sign in again",
    ),
    "signed_in_continue": ("身份已确认", "Signed in"),
    "continue": ("继续", "Continue"),
    "username": ("用户名", "User name"),
    "password": ("密码", "Password"),
    "totp": ("动态验证码（TOTP）", "One-time code (TOTP)"),
    "id_number": ("身份证号", "ID number"),
    "login_failed": ("用户名、密码或验证码错误", "Wrong user name, password or code"),
    "please_login": ("请先登录", "Please sign in"),
    "forbidden": ("无权访问此页面", "Your role may not open this page"),
    "error": ("请求未完成", "The request could not be completed"),
    "inbox": ("待审批的数据访问申请", "Access requests awaiting a decision"),
    "active": ("生效中的授权", "Active approvals"),
    "others": ("其他申请", "Other requests"),
    "computation": ("计算", "Computation"),
    "purpose": ("用途", "Purpose"),
    "scope": ("范围", "Scope"),
    "quota": ("配额", "Quota"),
    "used": ("已用", "Used"),
    "remaining": ("剩余", "Remaining"),
    "epsilon": ("隐私预算 ε", "Privacy budget ε"),
    "epsilon_left": ("剩余 ε", "ε left"),
    "requester": ("申请方", "Requester"),
    "status": ("状态", "Status"),
    "votes": ("票数", "Votes"),
    "valid_until": ("有效期至", "Valid until"),
    "approve": ("批准", "Approve"),
    "reject": ("驳回", "Reject"),
    "revoke": ("撤销", "Revoke"),
    "none": ("无", "None"),
    "releases": ("模型发布", "Model releases"),
    "providers": ("数据提供方与贡献回执", "Providers and their contribution receipts"),
    "provider": ("提供方", "Provider"),
    "table": ("数据表", "Table"),
    "accepted": ("接收", "Accepted"),
    "rejected_rows": ("拒收", "Rejected"),
    "root": ("默克尔根", "Merkle root"),
    "anchor": ("链上锚定", "Anchor"),
    "received": ("时间", "Received"),
    "my_score": ("我的道德信用", "My morality credit"),
    "radar": ("五维图", "Five-dimension chart"),
    "points": ("道德积分", "Morality points"),
    "code": ("道德码", "Morality code"),
    "credit_line": ("授信额度（元）", "Credit line (CNY)"),
    "reasons": ("主要影响因素", "Main factors holding the score down"),
    "no_score": ("暂无评分", "No score"),
    "accesses": ("谁查询了我的数据", "Who accessed my data"),
    "when": ("时间", "When"),
    "who": ("机构", "Who"),
    "consents": ("我的授权同意", "My consents"),
    "grant": ("授权", "Grant"),
    "withdraw": ("撤回", "Withdraw"),
    "covers": ("授权范围", "Covers"),
    "covers_household": (
        "同时授权家庭评分（按同意的家庭成员合并计算；与其他成员本人的评分对照，可推算出您的五维分数）",
        "Also my household's score (over the members who consent; set beside another member's"
        " own score it reveals your five dimensions)",
    ),
    "bank": ("银行", "Bank"),
    "expires": ("到期", "Expires"),
    "audit": ("审计验证", "Audit verification"),
    "run_verify": ("运行验证", "Run the verification"),
    "verdict_ok": ("验证通过", "Verified"),
    "verdict_fail": ("验证失败", "Verification failed"),
    "entries": ("条目", "Entries"),
    "checkpoints": ("检查点历史", "Checkpoint history"),
    "anchors": ("链上锚定与证明", "Anchors and their proofs"),
    "size": ("大小", "Size"),
    "consistency": ("一致性证明", "Consistency proof"),
    "dashboards": ("数据看板", "Dashboards"),
    "contributions_over_time": ("各提供方贡献（按日）", "Contributions by provider, by day"),
    "queries_per_bank": ("各银行查询次数", "Queries per bank"),
    "denials": ("拒绝原因", "Denials by reason"),
    "grades_by_town": (
        "各镇道德码分布（差分隐私发布）",
        "Grade distribution by town (differentially private)",
    ),
    "dp_note": (
        "每个格子（含空格子）的计数都经 OpenDP 离散拉普拉斯噪声处理，噪声计数小于最小单元的格子已抑制，"
        "不显示原始计数；发布一次后重复显示，所用 ε 记入看板预算（已用 / 总额）。",
        "Every cell, empty ones too, is released with OpenDP discrete-Laplace noise; cells whose "
        "noisy count is below the minimum are suppressed; no raw count is shown. Released once and "
        "shown again; its ε counts against the dashboards' budget (spent / total).",
    ),
    "officer": ("审批官员", "Officer"),
    "subject": ("居民", "Resident"),
    "auditor": ("审计员", "Auditor"),
    "home": ("首页", "Home"),
    "dimension.moral_review": ("道德评议", "Moral review"),
    "dimension.law_abiding": ("遵纪守法", "Law-abiding"),
    "dimension.honesty": ("诚实守信", "Honesty"),
    "dimension.volunteering": ("志愿奉献", "Volunteering"),
    "dimension.virtue": ("崇德向善", "Upholding virtue"),
}


def lang_of(request: Request) -> str:
    asked = request.query_params.get("lang") or request.cookies.get("dexin_lang")
    return asked if asked in LANGS else "zh"


def translate(lang: str, key: str) -> str:
    pair = WORDS.get(key)
    if pair is None:
        return key
    return pair[0] if lang == "zh" else pair[1]
