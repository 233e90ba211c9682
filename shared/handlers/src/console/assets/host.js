// Switchyard's embed, host side. On the host product's page:
//   <script src="https://switchyard.example.com/embed/host.js"></script>
//   SwitchyardEmbed.mount({ container, launchUrl, getToken, onExpired });
// It frames the session's launch URL, hands the page its access token when asked
// (`meshes:ready`, `meshes:token-refresh`) from `getToken()` — a token string, or
// `{access_token, expires_at}` from your backend's `POST /sessions/{id}/refresh` — sizes the
// frame to its content and reports `meshes:token-expired`. Only the frame's own messages
// count, and the token is posted to Switchyard's origin only.
(function () {
  "use strict";

  function mount(options) {
    var origin = new URL(options.launchUrl, location.href).origin;
    var frame = document.createElement("iframe");
    frame.src = options.launchUrl;
    frame.title = options.title || "Integrations";
    frame.style.cssText = "display:block;width:100%;border:0;height:" + (options.height || 480) + "px";

    function auth() {
      return Promise.resolve(options.getToken()).then(function (t) {
        var token = typeof t === "string" ? { access_token: t } : t;
        frame.contentWindow.postMessage({
          type: "meshes:auth",
          access_token: token.access_token,
          expires_at: token.expires_at,
          expires_in: token.expires_in,
        }, origin);
      });
    }

    function onMessage(event) {
      if (event.source !== frame.contentWindow || event.origin !== origin) return;
      var m = event.data || {};
      if (options.onMessage) options.onMessage(m);
      if (m.type === "meshes:ready" || m.type === "meshes:token-refresh") {
        auth().catch(function (e) { console.error("Switchyard embed: no token", e); });
      } else if (m.type === "meshes:resize" && isFinite(m.height) && m.height >= 0) {
        frame.style.height = Math.ceil(m.height) + "px";
      } else if (m.type === "meshes:token-expired" && options.onExpired) {
        options.onExpired();
      } else if (m.type === "meshes:navigate" && options.onNavigate) {
        options.onNavigate(m.path);
      }
    }

    window.addEventListener("message", onMessage);
    options.container.replaceChildren(frame);
    return {
      frame: frame,
      destroy: function () {
        window.removeEventListener("message", onMessage);
        frame.remove();
      },
    };
  }

  window.SwitchyardEmbed = { mount: mount };
})();
