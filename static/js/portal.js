/* The portal's live parts, as progressive enhancement: every form also works without this.
   - [data-dropzone]: drop files on the upload form to upload them.
   - [data-release]: the price and rule messages follow the options as they change; picking
     thumbnails fills in the page selection; a new printer brings its own options.
   - [data-refresh]: an element re-fetches its server-rendered content every few seconds (a
     table body row by row, by the rows' ids).
   - [data-once] and Release: a form is sent once, however often its button is clicked.
   - [data-editor]: line numbers beside the rule editor; diagnostics move the caret.
   - [data-thumbnails]: a thumbnail not drawn yet (no drawing child was free, or its drawing
     failed on a loaded server and waits to be tried again; its picture is data-busy-width
     wide, wider than any page drawn) says so in its alt text and is asked for again a little
     later, until it is drawn or given up (the crossed-out page is final). */
(function () {
  "use strict";

  function fetchFragment(url, options) {
    return fetch(url, Object.assign({ credentials: "same-origin", headers: { "X-Requested-With": "fetch" } }, options))
      .then(function (response) {
        if (!response.ok) { throw new Error(String(response.status)); }
        return response.text();
      });
  }

  function sendOnce(form) {
    form.addEventListener("submit", function (event) {
      if (form.dataset.sent === "1") { event.preventDefault(); return; }
      form.dataset.sent = "1";
      form.setAttribute("aria-busy", "true");
    });
  }

  function dropzone(form) {
    var input = form.querySelector("input[type=file]");
    var hint = form.querySelector("[data-drop-hint]");
    if (!input) { return; }
    if (hint) { hint.hidden = false; }
    ["dragenter", "dragover"].forEach(function (name) {
      form.addEventListener(name, function (event) { event.preventDefault(); form.classList.add("dragging"); });
    });
    ["dragleave", "drop"].forEach(function (name) {
      form.addEventListener(name, function () { form.classList.remove("dragging"); });
    });
    form.addEventListener("drop", function (event) {
      event.preventDefault();
      if (!event.dataTransfer || !event.dataTransfer.files.length) { return; }
      input.files = event.dataTransfer.files;
      form.requestSubmit();
    });
    sendOnce(form);
  }

  function release(form) {
    var timer = null;
    var fields = form.querySelector("#release-fields");
    var quote = function () { return form.querySelector("#quote"); };
    var pages = function () { return form.querySelector("[name=pages]"); };

    function updateQuote() {
      var target = quote();
      if (!target) { return; }
      target.setAttribute("aria-busy", "true");
      fetchFragment(form.dataset.quoteUrl, { method: "POST", body: new FormData(form) })
        .then(function (html) { target.innerHTML = html; })
        .catch(function () { /* the Release button still checks everything on the server */ })
        .finally(function () { target.removeAttribute("aria-busy"); });
    }

    function later() { clearTimeout(timer); timer = setTimeout(updateQuote, 250); }

    function changePrinter(select) {
      var shown = fields.querySelector("[data-printer]");
      if (shown && shown.dataset.printer === select.value) { later(); return; }
      // What the user typed and chose goes along: the new printer's form keeps it.
      var query = new URLSearchParams();
      new FormData(form).forEach(function (value, name) {
        if (["csrfmiddlewaretoken", "expected_price", "pick"].indexOf(name) < 0) { query.append(name, value); }
      });
      query.set("fragment", "release");
      query.set("printer", select.value);
      fetchFragment(form.dataset.formUrl + "?" + query.toString()).then(function (html) {
        fields.innerHTML = html;
        var again = fields.querySelector("[name=printer]");
        if (again) { again.focus(); }
        later();
      });
    }

    // The ticks follow the page selection typed: a tick then adds to it, not replaces it.
    function tickTyped() {
      var input = pages();
      if (!input) { return; }
      var chosen = {};
      input.value.split(",").forEach(function (part) {
        var bounds = part.trim().split("-");
        var first = parseInt(bounds[0], 10);
        var end = bounds.length === 2 && bounds[1].trim() === "" ? Infinity : parseInt(bounds[bounds.length - 1], 10);
        if (bounds.length > 2 || isNaN(first) || isNaN(end)) { return; }
        form.querySelectorAll("[data-pick]").forEach(function (box) {
          var page = parseInt(box.value, 10);
          if (page >= first && page <= end) { chosen[page] = true; }
        });
      });
      form.querySelectorAll("[data-pick]").forEach(function (box) { box.checked = !!chosen[parseInt(box.value, 10)]; });
    }

    // The parts of a page selection past the last thumbnail: no tick shows them, so a tick
    // must not drop them.
    function pagesPast(text, lastShown) {
      var kept = [];
      text.split(",").forEach(function (part) {
        var bounds = part.trim().split("-");
        var first = parseInt(bounds[0], 10);
        var open = bounds.length === 2 && bounds[1].trim() === "";
        var end = open ? Infinity : parseInt(bounds[bounds.length - 1], 10);
        if (bounds.length > 2 || isNaN(first) || isNaN(end) || end <= lastShown) { return; }
        var from = Math.max(first, lastShown + 1);
        kept.push(open ? from + "-" : (from === end ? String(from) : from + "-" + end));
      });
      return kept;
    }

    function pickPages() {
      var boxes = form.querySelectorAll("[data-pick]");
      var picked = Array.prototype.filter.call(boxes, function (box) { return box.checked; })
        .map(function (box) { return parseInt(box.value, 10); });
      var ranges = [];
      picked.forEach(function (page) {
        var last = ranges[ranges.length - 1];
        if (last && last[1] === page - 1) { last[1] = page; } else { ranges.push([page, page]); }
      });
      var input = pages();
      if (input) {
        var lastShown = boxes.length ? parseInt(boxes[boxes.length - 1].value, 10) : 0;
        input.value = ranges.map(function (r) { return r[0] === r[1] ? String(r[0]) : r[0] + "-" + r[1]; })
          .concat(pagesPast(input.value, lastShown)).join(",");
      }
    }

    form.addEventListener("change", function (event) {
      var target = event.target;
      if (target.name === "printer") { changePrinter(target); return; }
      if (target.hasAttribute("data-pick")) { pickPages(); }
      later();
    });
    form.addEventListener("input", function (event) {
      if (event.target.name === "pages") { tickTyped(); }
      if (event.target.name === "copies" || event.target.name === "pages") { later(); }
    });
    sendOnce(form);
  }

  // A row's HTML without its forms' CSRF token, which differs at each fetch.
  function rowText(row) {
    var copy = row.cloneNode(true);
    copy.querySelectorAll("[name=csrfmiddlewaretoken]").forEach(function (input) { input.removeAttribute("value"); });
    return copy.outerHTML;
  }

  // Only the rows that changed (by id) are replaced, added or removed: a live region then
  // reads those, not every row of the table again.
  function updateRows(body, html) {
    var fresh = document.createElement("template");
    fresh.innerHTML = html;
    var shown = {};
    Array.prototype.forEach.call(body.children, function (row) { shown[row.id] = row; });
    var rows = Array.prototype.map.call(fresh.content.children, function (row) {
      var old = row.id && shown[row.id];
      return old && rowText(old) === rowText(row) ? old : row;
    });
    Array.prototype.slice.call(body.children).forEach(function (row) {
      if (rows.indexOf(row) < 0) { row.remove(); }
    });
    rows.forEach(function (row, index) {
      if (body.children[index] !== row) { body.insertBefore(row, body.children[index] || null); }
    });
  }

  function refresh(element) {
    var seconds = parseInt(element.dataset.refreshSeconds || "5", 10);
    var busy = false;
    var timer = setInterval(function () {
      if (busy || document.hidden) { return; }
      busy = true;
      fetchFragment(element.dataset.refresh)
        .then(function (html) {
          if (element.tagName === "TBODY") { updateRows(element, html); }
          else if (element.innerHTML.trim() !== html.trim()) { element.innerHTML = html; }
          // A list of jobs stops asking once every job has ended.
          var settled = element.dataset.refreshUntil;
          if (settled && !element.querySelector(settled)) { clearInterval(timer); }
        })
        .catch(function () {})
        .finally(function () { busy = false; });
    }, seconds * 1000);
  }

  function editor(form) {
    var text = form.querySelector("textarea");
    var gutter = form.querySelector("[data-gutter]");
    if (!text || !gutter) { return; }
    function number() {
      var count = text.value.split("\n").length;
      var lines = [];
      for (var i = 1; i <= count; i += 1) { lines.push(i); }
      gutter.textContent = lines.join("\n");
      gutter.scrollTop = text.scrollTop;
    }
    text.addEventListener("input", number);
    text.addEventListener("scroll", function () { gutter.scrollTop = text.scrollTop; });
    number();
    document.querySelectorAll("[data-goto-line]").forEach(function (link) {
      link.addEventListener("click", function (event) {
        event.preventDefault();
        var line = parseInt(link.dataset.gotoLine, 10);
        var column = parseInt(link.dataset.gotoColumn, 10);
        var starts = text.value.split("\n").slice(0, line - 1).reduce(function (sum, l) { return sum + l.length + 1; }, 0);
        text.focus();
        text.setSelectionRange(starts + column - 1, starts + column);
        var lineHeight = text.scrollHeight / Math.max(text.value.split("\n").length, 1);
        text.scrollTop = Math.max(0, (line - 3) * lineHeight);
      });
    });
  }

  var THUMBNAIL_TRIES = 8;

  function thumbnails(list) {
    var busyWidth = parseInt(list.dataset.busyWidth, 10);
    list.querySelectorAll("img").forEach(function (image) {
      var source = image.getAttribute("src");
      var alt = image.alt;
      var tries = 0;
      function loaded() {
        if (image.naturalWidth !== busyWidth) { image.alt = alt; return; }
        image.alt = alt ? alt + " — " + list.dataset.busyAlt : list.dataset.busyAlt;
        if (tries >= THUMBNAIL_TRIES) { return; }
        tries += 1;
        // Each try its own address: the browser would show the busy picture it has again.
        setTimeout(function () { image.src = source + "?try=" + tries; }, 2000 * tries);
      }
      image.addEventListener("load", loaded);
      if (image.complete && image.naturalWidth) { loaded(); }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-thumbnails]").forEach(thumbnails);
    document.querySelectorAll("[data-dropzone]").forEach(dropzone);
    document.querySelectorAll("[data-release]").forEach(release);
    document.querySelectorAll("[data-refresh]").forEach(refresh);
    document.querySelectorAll("[data-once]").forEach(sendOnce);
    document.querySelectorAll("[data-editor]").forEach(editor);
  });
}());
