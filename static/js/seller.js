// The seller portal's enhancements; every form still works without this file.
// - photos: drag and drop onto a file input, previews, reordering, choosing the cover;
// - saved photos: drag (or ← →) to reorder, positions renumbered for the server;
// - the HS-code helper: a suggestion fills the field;
// - consignment lines: add and remove lines, pick a SKU from the search results.
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  function ready(fn) {
    if (document.readyState !== "loading") fn(); else document.addEventListener("DOMContentLoaded", fn);
  }

  // --- a list whose items are reordered by dragging or by the ← → buttons -----------------------
  function sortable(list, onChange) {
    var dragged = null;
    list.addEventListener("dragstart", function (e) {
      dragged = e.target.closest("li");
      if (!dragged) return;
      dragged.classList.add("dragging");
      e.dataTransfer.effectAllowed = "move";
      try { e.dataTransfer.setData("text/plain", ""); } catch (err) { /* old browsers */ }
    });
    list.addEventListener("dragend", function () {
      if (dragged) dragged.classList.remove("dragging");
      dragged = null;
      onChange();
    });
    list.addEventListener("dragover", function (e) {
      if (!dragged) return;
      e.preventDefault();
      var over = e.target.closest("li");
      if (!over || over === dragged || over.parentNode !== list) return;
      var box = over.getBoundingClientRect();
      var after = (e.clientX - box.left) > box.width / 2;
      list.insertBefore(dragged, after ? over.nextSibling : over);
    });
    list.addEventListener("click", function (e) {
      var button = e.target.closest("[data-move]");
      if (!button) return;
      e.preventDefault();
      var item = button.closest("li");
      if (button.getAttribute("data-move") === "-1" && item.previousElementSibling) {
        list.insertBefore(item, item.previousElementSibling);
      } else if (button.getAttribute("data-move") === "1" && item.nextElementSibling) {
        list.insertBefore(item.nextElementSibling, item);
      }
      onChange();
    });
  }

  // --- saved photos: positions follow the order on screen; the cover is highlighted -------------
  function savedPhotos(list) {
    list.querySelectorAll("li").forEach(function (li) { li.setAttribute("draggable", "true"); });
    sortable(list, function () {
      list.querySelectorAll("li").forEach(function (li, i) {
        var input = li.querySelector("input[name^=position_]");
        if (input) input.value = i + 1;
      });
    });
    list.addEventListener("change", function (e) {
      if (e.target.name !== "cover") return;
      list.querySelectorAll("li").forEach(function (li) {
        li.classList.toggle("is-cover", li.contains(e.target));
      });
    });
  }

  // --- new photos: a drop zone around a file input, previews to reorder and a cover to choose ---
  function dropzone(zone) {
    var input = zone.querySelector("input[type=file]");
    var previews = zone.querySelector("[data-previews]");
    var coverInput = zone.getAttribute("data-cover-input") ? document.getElementById(zone.getAttribute("data-cover-input")) : null;
    if (!input) return;
    var files = [];
    var cover = 0;
    var canSet = typeof DataTransfer === "function";

    function sync() {
      if (canSet) {
        var dt = new DataTransfer();
        files.forEach(function (f) { dt.items.add(f); });
        input.files = dt.files;
      }
      if (coverInput) coverInput.value = files.length ? String(Math.min(cover, files.length - 1)) : "";
    }

    function render() {
      if (!previews) return;
      previews.innerHTML = "";
      files.forEach(function (file, i) {
        var li = document.createElement("li");
        li.setAttribute("draggable", "true");
        li.dataset.index = String(i);
        if (coverInput && i === cover) li.classList.add("is-cover");
        var img = document.createElement("img");
        img.alt = file.name;
        img.width = 120; img.height = 120;
        img.src = URL.createObjectURL(file);
        li.appendChild(img);
        var name = document.createElement("small");
        name.textContent = file.name;
        name.style.display = "block"; name.style.overflow = "hidden"; name.style.textOverflow = "ellipsis"; name.style.whiteSpace = "nowrap";
        li.appendChild(name);
        if (coverInput) {
          var label = document.createElement("label");
          var radio = document.createElement("input");
          radio.type = "radio"; radio.name = "cover_pick"; radio.value = String(i); radio.checked = i === cover;
          radio.setAttribute("data-testid", "cover-pick");
          label.appendChild(radio);
          label.appendChild(document.createTextNode(" " + (zone.getAttribute("data-cover-label") || "★")));
          li.appendChild(label);
        }
        var actions = document.createElement("div");
        actions.className = "photo-actions";
        actions.innerHTML = '<span><button type="button" class="move secondary outline" data-move="-1">←</button>' +
          '<button type="button" class="move secondary outline" data-move="1">→</button></span>' +
          '<button type="button" class="move secondary outline" data-drop>×</button>';
        actions.querySelector("[data-drop]").setAttribute("aria-label", zone.getAttribute("data-remove-label") || "×");
        li.appendChild(actions);
        previews.appendChild(li);
      });
    }

    function add(list) {
      Array.prototype.forEach.call(list, function (f) {
        if (!/^image\//.test(f.type || "image/")) return;
        files.push(f);
      });
      sync(); render();
    }

    input.addEventListener("change", function () {
      files = Array.prototype.slice.call(input.files || []);
      cover = 0;
      sync(); render();
    });
    zone.addEventListener("dragover", function (e) {
      if (e.dataTransfer && Array.prototype.indexOf.call(e.dataTransfer.types || [], "Files") >= 0) {
        e.preventDefault();
        zone.classList.add("over");
      }
    });
    zone.addEventListener("dragleave", function () { zone.classList.remove("over"); });
    zone.addEventListener("drop", function (e) {
      if (!e.dataTransfer || !e.dataTransfer.files.length) return;
      e.preventDefault();
      zone.classList.remove("over");
      add(e.dataTransfer.files);
    });
    if (previews) {
      previews.addEventListener("change", function (e) {
        if (e.target.name !== "cover_pick") return;
        cover = parseInt(e.target.value, 10) || 0;
        sync();
        previews.querySelectorAll("li").forEach(function (li) { li.classList.toggle("is-cover", li.contains(e.target)); });
      });
      previews.addEventListener("click", function (e) {
        var drop = e.target.closest("[data-drop]");
        if (!drop) return;
        var i = parseInt(drop.closest("li").dataset.index, 10);
        files.splice(i, 1);
        if (cover === i) cover = 0; else if (cover > i) cover -= 1;
        sync(); render();
      });
      sortable(previews, function () {
        var order = Array.prototype.map.call(previews.querySelectorAll("li"), function (li) { return parseInt(li.dataset.index, 10); });
        var coverFile = files[cover];
        files = order.map(function (i) { return files[i]; });
        cover = Math.max(0, files.indexOf(coverFile));
        sync(); render();
      });
    }
  }

  // --- the HS-code helper: a suggestion (htmx fills the list) sets the field ---------------------
  function hsHelper(list) {
    list.addEventListener("click", function (e) {
      var button = e.target.closest("[data-hs]");
      if (!button) return;
      var field = list.parentNode.querySelector("input[name=hs_code]");
      if (field) { field.value = button.getAttribute("data-hs"); field.focus(); }
      list.innerHTML = "";
    });
  }

  // --- consignment lines: a Django formset that grows and shrinks ---------------------------------
  function formset(table) {
    var prefix = table.getAttribute("data-formset");
    var total = document.getElementById("id_" + prefix + "-TOTAL_FORMS");
    var template = document.getElementById(prefix + "-empty");
    var body = table.querySelector("tbody");
    var addButton = document.querySelector("[data-add-line='" + prefix + "']");
    if (!total || !template || !body) return;

    function visibleRows() {
      return Array.prototype.filter.call(body.querySelectorAll("tr"), function (tr) { return !tr.classList.contains("removed"); });
    }
    if (addButton) {
      addButton.addEventListener("click", function (e) {
        e.preventDefault();
        var index = parseInt(total.value, 10);
        var html = template.innerHTML.replace(/__prefix__/g, String(index));
        var holder = document.createElement("tbody");
        holder.innerHTML = html.trim();
        var row = holder.firstElementChild;
        body.appendChild(row);
        total.value = String(index + 1);
        if (window.htmx) window.htmx.process(row);
        var first = row.querySelector("input[type=search], input[type=text]");
        if (first) first.focus();
      });
    }
    // Suggestions close when the line's SKU field is left (a click on one still lands first).
    body.addEventListener("focusout", function (e) {
      var cell = e.target.closest(".sku-cell");
      if (!cell) return;
      setTimeout(function () {
        if (cell.contains(document.activeElement)) return;
        var results = cell.querySelector(".sku-results");
        if (results) results.innerHTML = "";
      }, 250);
    });
    body.addEventListener("click", function (e) {
      var remove = e.target.closest("[data-remove-line]");
      if (remove) {
        e.preventDefault();
        var row = remove.closest("tr");
        var del = row.querySelector("input[name$='-DELETE']");
        if (del) del.checked = true;
        row.classList.add("removed");
        if (!visibleRows().length && addButton) addButton.click();
        return;
      }
      var pick = e.target.closest("[data-sku-code]");
      if (pick) {
        e.preventDefault();
        var cell = pick.closest("td");
        var input = cell.querySelector("input[name$='-sku']");
        input.value = pick.getAttribute("data-sku-code");
        var results = cell.querySelector(".sku-results");
        if (results) results.innerHTML = "";
        var qty = pick.closest("tr").querySelector("input[name$='-quantity']");
        if (qty) qty.focus();
      }
    });
  }

  ready(function () {
    document.querySelectorAll("[data-dropzone]").forEach(dropzone);
    document.querySelectorAll("[data-sortable]").forEach(savedPhotos);
    document.querySelectorAll(".hs-results").forEach(hsHelper);
    document.querySelectorAll("[data-formset]").forEach(formset);
  });
})();
