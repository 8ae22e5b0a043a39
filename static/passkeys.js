// Passkeys: the browser's half of a WebAuthn ceremony. A form or button marked
// `data-passkey` asks the server for a challenge (POST to its `data-options` URL, with the
// form's CSRF token and fields), hands it to navigator.credentials, and posts the answer with
// the form (hidden fields `ceremony` and `credential`). Errors go to `#passkey-error`.
(function () {
  "use strict";

  function toBytes(b64url) {
    var b64 = b64url.replace(/-/g, "+").replace(/_/g, "/");
    while (b64.length % 4) b64 += "=";
    var text = atob(b64);
    var bytes = new Uint8Array(text.length);
    for (var i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
    return bytes.buffer;
  }

  function toText(buffer) {
    if (!buffer) return null;
    var bytes = new Uint8Array(buffer);
    var text = "";
    for (var i = 0; i < bytes.length; i++) text += String.fromCharCode(bytes[i]);
    return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function showError(message) {
    var box = document.getElementById("passkey-error");
    if (!box) return;
    box.textContent = message;
    box.hidden = false;
  }

  function clearError() {
    var box = document.getElementById("passkey-error");
    if (box) {
      box.textContent = "";
      box.hidden = true;
    }
  }

  function explain(error) {
    if (error && error.name === "NotAllowedError") {
      return "The passkey prompt was closed or timed out. Try again when you are ready.";
    }
    if (error && error.name === "InvalidStateError") {
      return "This device already holds a passkey for your account.";
    }
    if (error && error.name === "SecurityError") {
      return "Passkeys don't work at this address. Open Twofold at its host name instead.";
    }
    return "The passkey didn't work" + (error && error.message ? ": " + error.message : ".");
  }

  function creationOptions(options) {
    var pk = options.publicKey;
    pk.challenge = toBytes(pk.challenge);
    pk.user.id = toBytes(pk.user.id);
    (pk.excludeCredentials || []).forEach(function (c) { c.id = toBytes(c.id); });
    return { publicKey: pk };
  }

  function requestOptions(options) {
    var pk = options.publicKey;
    pk.challenge = toBytes(pk.challenge);
    (pk.allowCredentials || []).forEach(function (c) { c.id = toBytes(c.id); });
    return { publicKey: pk };
  }

  function created(credential) {
    return {
      id: credential.id,
      rawId: toText(credential.rawId),
      type: credential.type,
      response: {
        attestationObject: toText(credential.response.attestationObject),
        clientDataJSON: toText(credential.response.clientDataJSON)
      },
      extensions: {}
    };
  }

  function asserted(credential) {
    return {
      id: credential.id,
      rawId: toText(credential.rawId),
      type: credential.type,
      response: {
        authenticatorData: toText(credential.response.authenticatorData),
        clientDataJSON: toText(credential.response.clientDataJSON),
        signature: toText(credential.response.signature),
        userHandle: toText(credential.response.userHandle)
      },
      extensions: {}
    };
  }

  // The challenge for `form`: its fields posted to `url`; the JSON answer or an Error.
  function challenge(url, form) {
    var body = new URLSearchParams();
    new FormData(form).forEach(function (value, key) {
      if (key !== "credential" && key !== "ceremony") body.append(key, value);
    });
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: body
    }).then(function (res) {
      return res.json().catch(function () { return {}; }).then(function (json) {
        if (!res.ok || !json.options) {
          var error = new Error(json.error || "The server refused (" + res.status + ").");
          error.name = "ServerError";
          throw error;
        }
        return json;
      });
    });
  }

  function run(form, trigger) {
    clearError();
    var creating = form.dataset.passkey === "create";
    trigger.disabled = true;
    challenge(form.dataset.options, form)
      .then(function (json) {
        form.querySelector("input[name=ceremony]").value = json.ceremony;
        return creating
          ? navigator.credentials.create(creationOptions(json.options)).then(created)
          : navigator.credentials.get(requestOptions(json.options)).then(asserted);
      })
      .then(function (answer) {
        form.querySelector("input[name=credential]").value = JSON.stringify(answer);
        HTMLFormElement.prototype.submit.call(form);
      })
      .catch(function (error) {
        trigger.disabled = false;
        showError(error && error.name === "ServerError" ? error.message : explain(error));
      });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var forms = document.querySelectorAll("form[data-passkey]");
    if (!forms.length) return;
    var supported = !!(window.PublicKeyCredential && navigator.credentials);
    Array.prototype.forEach.call(forms, function (form) {
      var trigger = form.querySelector("[data-passkey-start]");
      if (!trigger) return;
      if (!supported) {
        trigger.disabled = true;
        showError("This browser can't use passkeys. Use another sign-in method, or another browser.");
        return;
      }
      if (trigger.type === "submit") {
        form.addEventListener("submit", function (event) {
          if (form.querySelector("input[name=credential]").value) return;
          event.preventDefault();
          run(form, trigger);
        });
      } else {
        trigger.addEventListener("click", function () { run(form, trigger); });
      }
    });
  });
})();
