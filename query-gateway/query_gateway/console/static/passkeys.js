// Officers' passkeys in the console (issue 14): enrolment, sign-in and signed decisions.
// Everything goes through the browser's own navigator.credentials; the page only moves
// base64url JSON between it and the gateway, which verifies (and the ledger verifies again).
"use strict";
(function () {
  const b64 = (buf) => btoa(String.fromCharCode(...new Uint8Array(buf)))
    .replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  const unb64 = (text) => {
    const s = atob(text.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((text.length + 3) % 4));
    return Uint8Array.from(s, (c) => c.charCodeAt(0)).buffer;
  };
  const csrf = () => JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRF-Token"] || "";
  // the words, then the reason's code in small type (an officer quotes it to support)
  const show = (text, code) => {
    const box = document.getElementById("passkey-status");
    if (!box) return;
    box.textContent = text;
    if (code) {
      const small = document.createElement("code");
      small.className = "code";
      small.textContent = code;
      box.append(" ", small);
    }
    box.hidden = false;
  };

  async function post(url, body) {
    const r = await fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "content-type": "application/json", "accept": "application/json", "x-csrf-token": csrf() },
      body: JSON.stringify(body),
    });
    const doc = await r.json().catch(() => ({}));
    if (!r.ok) throw new Error(doc.reason || String(r.status));
    return doc;
  }

  const descriptors = (list) => (list || []).map((c) => ({ ...c, id: unb64(c.id) }));

  function creationOptions(o) {
    return { ...o, challenge: unb64(o.challenge), user: { ...o.user, id: unb64(o.user.id) },
             excludeCredentials: descriptors(o.excludeCredentials) };
  }

  function requestOptions(o) {
    return { ...o, challenge: unb64(o.challenge), allowCredentials: descriptors(o.allowCredentials) };
  }

  function registrationJSON(c) {
    return { id: c.id, rawId: b64(c.rawId), type: c.type, clientExtensionResults: {},
             authenticatorAttachment: c.authenticatorAttachment || undefined,
             response: { clientDataJSON: b64(c.response.clientDataJSON),
                         attestationObject: b64(c.response.attestationObject),
                         transports: c.response.getTransports ? c.response.getTransports() : [] } };
  }

  function assertionJSON(c) {
    const r = c.response;
    return { id: c.id, rawId: b64(c.rawId), type: c.type, clientExtensionResults: {},
             authenticatorAttachment: c.authenticatorAttachment || undefined,
             response: { authenticatorData: b64(r.authenticatorData), clientDataJSON: b64(r.clientDataJSON),
                         signature: b64(r.signature), userHandle: r.userHandle ? b64(r.userHandle) : undefined } };
  }

  async function enrol() {
    const invite = location.hash.slice(1);
    const started = await post("/v1/officers/enrolment/options", { invite });
    const made = await navigator.credentials.create({ publicKey: creationOptions(started.options) });
    const done = await post("/v1/officers/enrolment",
                            { invite, ceremony: started.ceremony, credential: registrationJSON(made) });
    history.replaceState(null, "", location.pathname);  // the invite is spent: drop it from the URL
    return done;
  }

  async function signIn() {
    const started = await post("/console/passkey/sign-in/options", {});
    const got = await navigator.credentials.get({ publicKey: requestOptions(started.options) });
    return post("/console/passkey/sign-in", { ceremony: started.ceremony, credential: assertionJSON(got) });
  }

  async function decide(requestId, decision) {
    const base = `/console/officer/requests/${requestId}`;
    const started = await post(`${base}/decision-options`, { decision });
    const got = await navigator.credentials.get({ publicKey: requestOptions(started.options) });
    const assertion = assertionJSON(got);
    if (decision === "revoke") return post(`${base}/revoke`, { assertion });
    return post(`${base}/vote`, { decision, assertion });
  }

  // Before the passkey signs a decision on the ledger, the officer confirms it in a dialog
  // that names what is decided (the requester, computation, purpose, scope, quota, term).
  function confirmed(button) {
    const dialog = document.getElementById("confirm-decision");
    if (!dialog || typeof dialog.showModal !== "function") return Promise.resolve(false);
    const action = dialog.querySelector(".confirm-action");
    action.textContent = action.dataset[button.dataset.decide] || "";
    const what = document.getElementById(`what-${button.dataset.request}`);
    const slot = dialog.querySelector(".confirm-what");
    slot.replaceChildren(...(what ? [what.firstElementChild.cloneNode(true)] : []));
    dialog.returnValue = "";
    return new Promise((resolve) => {
      dialog.addEventListener("close", () => resolve(dialog.returnValue === "confirm"), { once: true });
      dialog.showModal();
    });
  }

  function wire() {
    const enrolButton = document.getElementById("enrol-passkey");
    if (enrolButton) enrolButton.addEventListener("click", () => enrol().then(
      (done) => { show(enrolButton.dataset.done); document.getElementById("enrolled").textContent = done.officer; },
      (e) => show(enrolButton.dataset.failed, e.message)));
    const signInButton = document.getElementById("passkey-sign-in");
    if (signInButton) signInButton.addEventListener("click", () => signIn().then(
      (done) => { location.assign(done.next); },
      (e) => show(signInButton.dataset.failed, e.message)));
    for (const button of document.querySelectorAll("button[data-decide]")) {
      button.addEventListener("click", () => confirmed(button).then((yes) => {
        if (!yes) return;
        decide(button.dataset.request, button.dataset.decide).then(
          () => location.reload(),
          (e) => show(button.dataset.failed, e.message));
      }));
    }
  }

  window.dexinPasskeys = { enrol, signIn, decide };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", wire); else wire();
})();
