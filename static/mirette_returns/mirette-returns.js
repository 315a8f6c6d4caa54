/* mirette-returns: keeps the photo field of a return form "required" in step
   with the chosen reason (the server checks it anyway). No inline script is
   needed anywhere, so pages work under a strict Content-Security-Policy. */
(function () {
  "use strict";
  document.addEventListener("change", function (event) {
    var select = event.target;
    if (!select || !select.matches || !select.matches("select[data-mr-photo-input]")) {
      return;
    }
    var input = document.getElementById(select.getAttribute("data-mr-photo-input"));
    if (!input) {
      return;
    }
    var option = select.options[select.selectedIndex];
    var required = !!(option && option.hasAttribute("data-photo-required"));
    input.required = required;
    var note = document.getElementById(input.id + "-required");
    if (note) {
      note.hidden = !required;
    }
  });
})();
