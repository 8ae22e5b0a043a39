// The one small script. Everything works without it: the recovery codes are plain text in
// the page and every form submits as it is. It adds Copy, Download and Print beside the
// codes, and asks before a form marked data-confirm does something that can't be undone.
"use strict";
(function () {
  function codes(listId) {
    var list = document.getElementById(listId);
    if (!list) return [];
    return Array.prototype.map.call(list.querySelectorAll("code"), function (c) {
      return c.textContent.trim();
    });
  }

  function say(button, message) {
    var status = button.parentNode.querySelector(".copy-status");
    if (status) status.textContent = message;
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-copy]").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function () {
        var text = codes(button.getAttribute("data-copy")).join("\n") + "\n";
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
        // The file says whose codes these are: found in a downloads folder months later, it
        // must not need guessing.
        var heading = button.getAttribute("data-heading");
        var lines = heading ? [heading, ""] : [];
        var text = lines.concat(codes(button.getAttribute("data-download"))).join("\n") + "\n";
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
    document.querySelectorAll("[data-print]").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function () { window.print(); });
    });
    document.querySelectorAll("form[data-confirm]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        // data-confirm-if names a checkbox: ask only when it is checked.
        var only = form.getAttribute("data-confirm-if");
        if (only) {
          var box = document.getElementById(only);
          if (!box || !box.checked) return;
        }
        if (!window.confirm(form.getAttribute("data-confirm"))) event.preventDefault();
      });
    });
  });
})();
