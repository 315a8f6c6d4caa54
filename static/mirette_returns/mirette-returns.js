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

/* Focus and announcements after htmx (2 or 4) replaces a part of the page.
   When the element that had the focus is replaced (the button of the form
   just sent), the browser would drop the focus to the top of the page; it
   goes instead to the first field in error, the message saying what
   happened, or the same form again. Changes that arrive by themselves (the
   other party's message, a new status) are read out by one polite live
   region that stays in the page. Watching the DOM, not htmx's events, keeps
   this the same under both htmx versions; without JavaScript, every answer
   is a new page and none of this is needed. */
(function () {
  "use strict";
  var FIELDS = 'textarea, select, input:not([type="hidden"])';
  var FOCUSABLE = 'a[href], button, ' + FIELDS;
  var focused = null;
  var seen = null;
  var announcer = null;
  var pending = false;

  function text(element) {
    return element ? element.textContent.replace(/\s+/g, " ").trim() : "";
  }

  function snapshot() {
    var items = document.querySelectorAll("#mr-timeline li[id]");
    return {
      status: text(document.querySelector("#mr-summary .mr-status-line")),
      items: Array.prototype.map.call(items, function (item) { return item.id; })
    };
  }

  function focusOn(element) {
    function now() {
      if (!element.matches(FOCUSABLE) && !element.hasAttribute("tabindex")) {
        element.setAttribute("tabindex", "-1");
      }
      element.focus();
    }
    now();
    // htmx settles a swap a moment later and may give an element back the
    // attributes it came with, dropping a tabindex added here: again then.
    window.setTimeout(function () {
      if (document.activeElement === document.body && element.isConnected) {
        now();
      }
    }, 100);
  }

  /* The first element of ``region`` matching ``selector`` that is shown. */
  function shown(region, selector) {
    var found = region.querySelectorAll(selector);
    for (var i = 0; i < found.length; i++) {
      if (found[i].getClientRects().length) {
        return found[i];
      }
    }
    return null;
  }

  /* Where the focus goes in ``region``: the first field in error, an alert,
     a notice, the form's first field, or anything focusable. */
  function focusTarget(region) {
    return shown(region, '[aria-invalid="true"]') ||
      shown(region, '[role="alert"]') ||
      shown(region, '[role="status"]') ||
      (region.tagName === "FORM" ? shown(region, FIELDS) : null) ||
      shown(region, FOCUSABLE);
  }

  /* Puts the focus back if a swap took it; true when it went somewhere new,
     the page's answer to what the person just did. */
  function restoreFocus() {
    var active = document.activeElement;
    if (!focused || (active && active !== document.body)) {
      return false;
    }
    if (focused.element.isConnected) {
      // Kept through the swap (hx-preserve moves it out and back), but
      // blurred: the same element again, and the news still gets read out.
      if (focused.element.getClientRects().length) {
        focusOn(focused.element);
      }
      return false;
    }
    for (var i = 0; i < focused.ids.length; i++) {
      var region = document.getElementById(focused.ids[i]);
      var target = region && focusTarget(region);
      if (target) {
        focusOn(target);
        return true;
      }
    }
    return false;
  }

  function announce(words) {
    if (!announcer || !words.length) {
      return;
    }
    announcer.textContent = words.join(". ");
  }

  function settle() {
    pending = false;
    var movedFocus = restoreFocus();
    var now = snapshot();
    // The page's own answer to what the person just did is read where the
    // focus went; only news from elsewhere goes to the live region.
    if (seen && !movedFocus) {
      var words = [];
      if (now.status && now.status !== seen.status) {
        words.push(now.status);
      }
      now.items.forEach(function (id) {
        if (seen.items.indexOf(id) < 0) {
          words.push(text(document.getElementById(id)));
        }
      });
      announce(words);
    }
    seen = now;
  }

  // A click or tap moves the focus where the person chose (or nowhere):
  // nothing to restore until something gets it again.
  document.addEventListener("pointerdown", function () {
    focused = null;
  }, true);

  document.addEventListener("focusin", function (event) {
    var ids = [];
    for (var node = event.target; node && node !== document.body; node = node.parentElement) {
      if (node.id) {
        ids.push(node.id);
      }
    }
    focused = {element: event.target, ids: ids};
  });

  function start() {
    if (!document.querySelector(".mr")) {
      return;
    }
    announcer = document.createElement("div");
    announcer.className = "mr-visually-hidden";
    announcer.setAttribute("role", "status");
    announcer.setAttribute("aria-live", "polite");
    announcer.setAttribute("data-mr-announcer", "");
    document.body.appendChild(announcer);
    seen = snapshot();
    new MutationObserver(function () {
      if (!pending) {
        pending = true;
        window.setTimeout(settle, 0);
      }
    }).observe(document.body, {childList: true, subtree: true});
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
