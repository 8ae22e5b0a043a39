// Copy and Download for recovery codes. The codes are plain text in the page, so everything
// works without this script; it only adds the two buttons.
"use strict";
(function () {
  function codesText(listId) {
    var list = document.getElementById(listId);
    if (!list) return "";
    var codes = Array.prototype.map.call(list.querySelectorAll("code"), function (c) {
      return c.textContent.trim();
    });
    return codes.join("\n") + "\n";
  }

  function say(button, message) {
    var status = button.parentNode.querySelector(".copy-status");
    if (status) status.textContent = message;
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-copy]").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function () {
        var text = codesText(button.getAttribute("data-copy"));
        if (navigator.clipboard && navigator.clipboard.writeText) {
          navigator.clipboard.writeText(text).then(
            function () { say(button, "Copied to the clipboard."); },
            function () { say(button, "Copying failed: select the codes and copy them by hand."); }
          );
        } else {
          say(button, "Copying is not available here: select the codes and copy them by hand.");
        }
      });
    });
    document.querySelectorAll("[data-download]").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function () {
        var text = codesText(button.getAttribute("data-download"));
        var blob = new Blob([text], { type: "text/plain;charset=utf-8" });
        var link = document.createElement("a");
        link.href = URL.createObjectURL(blob);
        link.download = button.getAttribute("data-filename") || "recovery-codes.txt";
        document.body.appendChild(link);
        link.click();
        setTimeout(function () {
          URL.revokeObjectURL(link.href);
          link.remove();
        }, 0);
        say(button, "Downloaded " + link.download + ".");
      });
    });
  });
})();
