// comicc studio: the book live, the panel inspector, toggles, variants, history, explore.
// Plain JavaScript, no framework, no build step: the server's CSP allows only this file.
"use strict";

(function () {
  const token = document.querySelector('meta[name="comicc-token"]').content;
  const $ = (sel, root) => (root || document).querySelector(sel);
  const $$ = (sel, root) => Array.from((root || document).querySelectorAll(sel));

  const state = {
    book: null,        // the last /api/book answer
    panel: null,       // the ref of the panel in the inspector ("1.2") or null
    panelData: null,   // the last /api/panel/{ref} answer
    historyPicked: [], // the keys of up to two selected history items
    rebuiltAt: null,
  };

  // ---- helpers -------------------------------------------------------------

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = value;
      else if (key.startsWith("data-")) node.setAttribute(key, String(value));
      else if (key in node) node[key] = value;
      else node.setAttribute(key, String(value));
    }
    for (const child of children) {
      if (child === null || child === undefined) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  let noticeTimer = null;
  function notice(message, isError) {
    const box = $("#notice");
    box.textContent = message;
    box.classList.toggle("error", Boolean(isError));
    box.hidden = false;
    clearTimeout(noticeTimer);
    if (message.endsWith("…")) return; // work in progress: stays until the next notice
    noticeTimer = setTimeout(() => { box.hidden = true; }, isError ? 8000 : 3500);
  }

  async function getJSON(url) {
    const response = await fetch(url, { headers: { Accept: "application/json" } });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(body.error || `${url}: HTTP ${response.status}`);
    return body;
  }

  async function postJSON(url, payload) {
    const response = await fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-Comicc-Token": token },
      body: JSON.stringify(payload),
    });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(body.error || `${url}: HTTP ${response.status}`);
    return body;
  }

  function money(cost, currency) {
    if (!cost) return "free";
    const unit = currency || "USD";
    if (unit === "USD") return `$${Number(cost).toFixed(2)}`;
    return `${Number(Number(cost).toFixed(4))} ${unit}`; // "10 credits", "2.5 credits"
  }

  function clock(date) {
    return date.toLocaleTimeString([], {
      hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23",
    });
  }

  // ---- the confirm dialog: every paint shows its plan first -----------------

  function confirmPlan(what, plan) {
    const dialog = $("#confirm");
    $(".confirm-what", dialog).textContent = what;
    $(".plan-cost", dialog).textContent = money(plan.cost, plan.currency);
    const requests = plan.requests !== undefined ? plan.requests : null;
    const parts = [];
    if (requests !== null) parts.push(`${requests} image${requests === 1 ? "" : "s"} to paint`);
    if (plan.cached) parts.push(`${plan.cached} cached`);
    if (!plan.cost) parts.push("nothing is charged");
    $(".plan-detail", dialog).textContent = parts.length ? `· ${parts.join(", ")}` : "";
    dialog.returnValue = "";
    dialog.showModal();
    return new Promise((resolve) => {
      dialog.addEventListener("close", () => resolve(dialog.returnValue === "yes"), { once: true });
    });
  }

  // ---- the book --------------------------------------------------------------

  let bookRequest = 0;
  async function loadBook(changedPages) {
    const ticket = ++bookRequest;
    let book;
    try {
      book = await getJSON("/api/book");
    } catch (error) {
      if (ticket === bookRequest) {
        renderStatus({ ok: false, building: false, message: String(error.message), reasons: [] });
      }
      return;
    }
    if (ticket !== bookRequest) return; // a later rebuild's answer is on its way
    state.book = book;
    if (book.title) {
      $("#book-title").textContent = book.title;
      document.title = `${book.title} · comicc studio`;
    }
    state.rebuiltAt = new Date();
    renderPages(book.pages || [], changedPages || (book.status && book.status.changed_pages) || []);
    renderStatus(book.status || {});
    renderPending(book.status && book.status.pending_paint);
    renderDiagnostics(book.diagnostics || []);
    if (state.panel) {
      if (panelRefs().includes(state.panel)) loadPanel(state.panel, { keepScroll: true });
      else closeInspector();
    }
  }

  function panelRefs() {
    const refs = [];
    for (const page of (state.book && state.book.pages) || []) {
      for (const panel of page.panels || []) refs.push(panel.ref);
    }
    return refs;
  }

  function renderPages(pages, changedPages) {
    const container = $("#pages");
    const wanted = new Set(pages.map((p) => String(p.number)));
    for (const wrap of $$(".page-wrap", container)) {
      if (!wanted.has(wrap.dataset.page)) wrap.remove();
    }
    let previous = null;
    for (const page of pages) {
      const number = String(page.number);
      let wrap = container.querySelector(`.page-wrap[data-page="${number}"]`);
      if (!wrap) {
        const img = el("img", {
          class: "page", "data-page": number, alt: `Page ${number}`, decoding: "async",
        });
        img.width = page.width;
        img.height = page.height;
        wrap = el("div", { class: "page-wrap", "data-page": number }, img,
          el("span", { class: "page-number", text: `page ${number}` }));
        if (previous) previous.after(wrap);
        else container.prepend(wrap);
      } else if (previous && previous.nextElementSibling !== wrap) {
        previous.after(wrap);
      }
      const img = $("img.page", wrap);
      if (page.width && page.height) wrap.style.setProperty("--aspect", String(page.width / page.height));
      // only a page whose URL changed is fetched again
      if (img.getAttribute("src") !== page.image) {
        const first = !img.getAttribute("src");
        img.width = page.width;
        img.height = page.height;
        img.src = page.image;
        if (!first && changedPages.map(String).includes(number)) {
          wrap.classList.remove("changed");
          void wrap.offsetWidth; // restart the animation
          wrap.classList.add("changed");
        }
      }
      renderHotspots(wrap, page.panels || []);
      previous = wrap;
    }
    $("#empty").hidden = pages.length > 0;
  }

  function renderHotspots(wrap, panels) {
    const key = JSON.stringify(panels);
    if (wrap.dataset.panels === key) return;
    wrap.dataset.panels = key;
    for (const old of $$(".panel-hit", wrap)) old.remove();
    for (const panel of panels) {
      const [x, y, w, h] = panel.box;
      const hit = el("button", {
        type: "button", class: "panel-hit", "data-panel": panel.ref,
        title: `Panel ${panel.ref}`, "aria-label": `Inspect panel ${panel.ref}`,
      });
      hit.style.left = `${x * 100}%`;
      hit.style.top = `${y * 100}%`;
      hit.style.width = `${w * 100}%`;
      hit.style.height = `${h * 100}%`;
      if (panel.ref === state.panel) hit.classList.add("selected");
      hit.addEventListener("click", () => openPanel(panel.ref));
      wrap.append(hit);
    }
  }

  function renderStatus(status) {
    const box = $("#status");
    // version 0: the first build has not finished yet
    const building = Boolean(status.building) || Boolean(state.book && state.book.version === 0);
    box.classList.toggle("ok", Boolean(status.ok) && !building);
    box.classList.toggle("error", !status.ok && !building);
    box.classList.toggle("building", building);
    $(".message", box).textContent = building && !status.ok
      ? "Building the book…" : status.message || (status.ok ? "Up to date" : "Not built");
    $(".when", box).textContent = state.rebuiltAt && !building
      ? `rebuilt ${clock(state.rebuiltAt)}` : "";
    // why it rebuilt: the first reason in the bar, all of them one click away
    const reasons = status.reasons || [];
    const why = $(".why", box);
    $(".reasons", why).replaceChildren(...reasons.map((reason) =>
      el("li", { class: "reason", text: reason })));
    $(".first-reason", why).textContent = reasons[0] || "";
    $(".more-reasons", why).textContent = reasons.length > 1 ? `+${reasons.length - 1} more` : "";
    why.hidden = reasons.length === 0;
    if (!reasons.length) why.open = false;
  }

  function renderPending(pending) {
    const box = $("#pending");
    if (!pending || !pending.panels || !pending.panels.length) {
      box.hidden = true;
      return;
    }
    const n = pending.panels.length;
    $(".pending-text", box).textContent =
      `${n} panel${n === 1 ? "" : "s"} wait for paid art · ${money(pending.cost, pending.currency)}`;
    box.hidden = false;
  }

  async function paintPending() {
    const pending = state.book && state.book.status && state.book.status.pending_paint;
    if (!pending) return;
    const plan = {
      cost: pending.cost, currency: pending.currency,
      requests: pending.images !== undefined ? pending.images : pending.panels.length,
    };
    const yes = await confirmPlan(`Paint panels ${pending.panels.join(", ")} now?`, plan);
    if (!yes) return;
    try {
      notice("Painting…");
      await postJSON("/api/paint", { confirm: true });
      notice("Painted: the pages update now.");
    } catch (error) {
      notice(error.message, true);
    }
  }

  function renderDiagnostics(diagnostics) {
    const box = $("#diagnostics");
    const list = $(".list", box);
    list.replaceChildren();
    diagnostics.forEach((d, index) => {
      const file = (d.path || (state.book && state.book.script) || "").split(/[\\/]/).pop();
      const where = d.line ? `${file}:${d.line}:${d.col}` : file;
      const link = el("a", {
        class: "where", href: `#diagnostic-${index}`, "data-line": d.line, text: where,
      });
      const item = el("li", {
        class: `diagnostic ${d.severity}`, id: `diagnostic-${index}`, "data-line": d.line,
      },
      el("div", { class: "head" },
        el("span", { class: "severity", text: d.severity }),
        link,
        el("span", { class: "msg", text: d.code ? `${d.message} [${d.code}]` : d.message })),
      el("pre", { text: d.rendered || [d.source_line, d.caret].filter(Boolean).join("\n") }));
      link.addEventListener("click", (event) => {
        event.preventDefault();
        for (const other of $$(".diagnostic.highlight")) other.classList.remove("highlight");
        item.classList.add("highlight");
        item.scrollIntoView({ block: "nearest", behavior: "smooth" });
      });
      list.append(item);
    });
    const errors = diagnostics.filter((d) => d.severity === "error").length;
    $(".count", box).textContent = diagnostics.length ? `(${diagnostics.length})` : "";
    box.classList.toggle("warnings-only", errors === 0);
    box.hidden = diagnostics.length === 0;
  }

  // ---- the inspector -------------------------------------------------------

  function openPanel(ref) {
    state.panel = ref;
    state.historyPicked = [];
    for (const hit of $$(".panel-hit")) hit.classList.toggle("selected", hit.dataset.panel === ref);
    $("#inspector").hidden = false;
    $("#inspector .panel-ref").textContent = ref;
    $("#inspector").classList.add("loading");
    const hit = $(`.panel-hit[data-panel="${ref}"]`);
    if (hit) hit.scrollIntoView({ block: "nearest" });
    $("#explore-grid").replaceChildren();
    $("#history-diff").hidden = true;
    loadPanel(ref, { keepScroll: false });
  }

  function closeInspector() {
    state.panel = null;
    state.panelData = null;
    $("#inspector").hidden = true;
    for (const hit of $$(".panel-hit.selected")) hit.classList.remove("selected");
  }

  let panelRequest = 0;
  async function loadPanel(ref, options) {
    const ticket = ++panelRequest;
    let data;
    try {
      data = await getJSON(`/api/panel/${encodeURIComponent(ref)}`);
    } catch (error) {
      if (ticket === panelRequest) notice(error.message, true);
      return;
    }
    if (ticket !== panelRequest || state.panel !== ref) return;
    state.panelData = data;
    renderInspector(data);
    $("#inspector").classList.remove("loading");
    if (!options.keepScroll) $(".inspector-body").scrollTop = 0;
  }

  // after an edit made here: read the panel again at once (its switches name
  // line numbers, and a written `pick:` or `variants:` moves the lines below it)
  function refreshPanel(ref) {
    if (state.panel !== ref) return;
    for (const input of $$("#toggles input.toggle")) input.disabled = true;
    loadPanel(ref, { keepScroll: true });
  }

  function explainOf(data) {
    const explain = data.explain || {};
    if (Array.isArray(explain.panels)) return explain.panels[0] || {};
    return explain;
  }

  function renderInspector(data) {
    const inspector = $("#inspector");
    const explain = explainOf(data);
    const variants = explain.variants || [];
    const picked = variants.find((v) => v.picked) || variants[0] || {};
    $(".panel-ref", inspector).textContent = data.ref;
    $(".panel-line", inspector).textContent = explain.line ? `line ${explain.line}` : "";

    // the art, with the mask and init image as overlays
    const shown = (data.variants || []).find((v) => v.picked) || (data.variants || [])[0];
    const art = $(".art-image", inspector);
    if (shown && shown.cached) {
      if (art.getAttribute("src") !== shown.image) art.src = shown.image;
      art.alt = `Panel ${data.ref}, variant ${shown.n}`;
      art.hidden = false;
    } else {
      art.removeAttribute("src");
      art.hidden = true;
    }
    setOverlay("mask", data.mask);
    setOverlay("init", data.init);

    // the prompt and its parts
    $(".final-prompt", inspector).textContent = explain.prompt || "(no prompt)";
    const parts = $(".prompt-parts", inspector);
    parts.replaceChildren(...(explain.parts || []).map((part) => {
      const line = part.at ? part.at.line : null;
      const label = part.name ? `${part.kind} ${part.name}` : part.kind;
      return el("li", {
        class: `prompt-part${part.within !== null && part.within !== undefined ? " nested" : ""}`,
        "data-line": line,
        title: part.source || "",
      },
      el("span", { class: "kind", text: label }),
      // the description as written (the final prompt above shows it expanded)
      el("span", { class: "text", text: part.kind === "description" && part.source ? part.source : part.text }),
      el("span", { class: "line", text: line ? `L${line}` : "" }));
    }));
    $(".negative", inspector).textContent = explain.negative || "—";
    $(".seed", inspector).textContent = picked.seed !== undefined ? String(picked.seed) : "—";
    $(".backend", inspector).textContent = explain.backend || "—";
    $(".model", inspector).textContent = explain.model || "default";
    const size = explain.size || {};
    const req = size.request || size.box;
    $(".size", inspector).textContent = req
      ? `${req[0]} × ${req[1]} px${explain.dpi ? ` at ${explain.dpi} dpi` : ""}` : "—";
    const cache = $(".cache-state", inspector);
    cache.replaceChildren(el("span", { text: picked.state || "—" }),
      ...(picked.state !== "cached" ? (picked.reasons || []) : []).map((r) =>
        el("span", { class: "reason", text: r })));
    const toPaint = variants.filter((v) => v.state !== "cached");
    const cost = toPaint.reduce((sum, v) => sum + (v.cost || 0), 0);
    $(".cost", inspector).textContent = toPaint.length
      ? `${money(cost, picked.unit)} for ${toPaint.length} image${toPaint.length === 1 ? "" : "s"}`
      : "nothing to paint (all cached)";

    renderToggles(data.toggles || []);
    renderVariants(data.ref, data.variants || []);
    renderHistory(data.history || []);
    const input = $("#explore-toggles");
    if (!input.value) {
      input.placeholder = (data.toggles || []).slice(0, 2).map((t) => t.label).join(", ")
        || "@noir, dutch angle";
    }
  }

  function setOverlay(kind, url) {
    const box = $(`#show-${kind}`);
    const img = $(`.overlay-${kind}`);
    box.disabled = !url;
    if (!url) {
      box.checked = false;
      img.hidden = true;
      img.removeAttribute("src");
      return;
    }
    if (img.dataset.url !== url) {
      img.dataset.url = url;
      img.src = `${url}${url.includes("?") ? "&" : "?"}t=${Date.now()}`;
    }
    img.hidden = !box.checked;
  }

  function renderToggles(toggles) {
    const list = $("#toggles");
    if (!toggles.length) {
      list.replaceChildren(el("li", { class: "none", text: "This panel has no prompt items or style snippets." }));
      return;
    }
    list.replaceChildren(...toggles.map((t) => {
      const input = el("input", {
        type: "checkbox", class: "toggle", "data-line": t.line, checked: Boolean(t.enabled),
        "aria-label": `${t.label} (line ${t.line})`,
      });
      input.addEventListener("change", () => setToggle(input, t));
      return el("li", { class: `toggle-row${t.enabled ? "" : " off"}` },
        input,
        el("span", { class: "label", text: t.label, title: t.label }),
        el("span", { class: "kind", text: t.kind === "style" ? "style" : "" }),
        el("span", { class: "line", text: `L${t.line}` }));
    }));
  }

  async function setToggle(input, toggle) {
    input.disabled = true;
    try {
      const answer = await postJSON("/api/toggle", { line: toggle.line, enabled: input.checked, label: toggle.label });
      input.closest(".toggle-row").classList.toggle("off", !input.checked);
      notice(`Line ${answer.line || toggle.line}: ${answer.text !== undefined ? answer.text.trim() : ""}`);
    } catch (error) {
      input.checked = !input.checked;
      notice(error.message, true);
    } finally {
      input.disabled = false;
    }
  }

  function renderVariants(ref, variants) {
    const row = $("#variants");
    if (!variants.length) {
      row.replaceChildren(el("p", { class: "none", text: "No art yet." }));
      return;
    }
    row.replaceChildren(...variants.map((v) => {
      const pick = el("button", {
        type: "button", class: "pick", text: v.picked ? "picked" : "pick", disabled: v.picked,
      });
      pick.addEventListener("click", () => pickVariant(ref, v.n, pick));
      return el("div", { class: `variant${v.picked ? " picked" : ""}`, "data-variant": v.n },
        v.cached ? el("img", { src: v.image, alt: `variant ${v.n}`, loading: "lazy" })
          : el("div", { class: "placeholder", text: "not painted yet" }),
        el("div", { class: "row" },
          el("span", { class: "badge", text: `v${v.n}` }),
          pick));
    }));
  }

  async function pickVariant(ref, n, button) {
    button.disabled = true;
    try {
      await postJSON("/api/pick", { panel: ref, variant: n });
      for (const v of $$("#variants .variant")) {
        const mine = v.dataset.variant === String(n);
        v.classList.toggle("picked", mine);
        const b = $("button.pick", v);
        b.textContent = mine ? "picked" : "pick";
        b.disabled = mine;
      }
      notice(`Panel ${ref}: pick: ${n} written to the script.`);
      refreshPanel(ref); // the script's lines moved: the switches must know their new lines
    } catch (error) {
      button.disabled = false;
      notice(error.message, true);
    }
  }

  async function paintMore() {
    const ref = state.panel;
    if (!ref) return;
    const more = Math.max(1, parseInt($("#more-count").value, 10) || 1);
    const current = ((state.panelData && state.panelData.variants) || []).length || 1;
    const count = current + more;
    try {
      const answer = await postJSON("/api/variants", { panel: ref, count, confirm: false });
      const yes = await confirmPlan(
        `Panel ${ref}: ${more} more variant${more === 1 ? "" : "s"} (variants: ${count}).`,
        answer.plan || {});
      if (!yes) return;
      notice(`Panel ${ref}: painting ${more} more…`);
      await postJSON("/api/variants", { panel: ref, count, confirm: true });
      notice(`Panel ${ref}: variants: ${count} written and painted.`);
      refreshPanel(ref);
    } catch (error) {
      notice(error.message, true);
    }
  }

  function renderHistory(entries) {
    const strip = $("#history");
    state.historyPicked = state.historyPicked.filter((k) => entries.some((e) => e.key === k));
    if (!entries.length) {
      strip.replaceChildren(el("p", { class: "none", text: "No earlier art for this panel." }));
      $("#history-diff").hidden = true;
      return;
    }
    strip.replaceChildren(...entries.map((entry) => {
      const when = entry.when ? new Date(entry.when * 1000) : null;
      const item = el("button", {
        type: "button",
        class: `history-item${entry.current ? " current" : ""}${state.historyPicked.includes(entry.key) ? " selected" : ""}`,
        "data-key": entry.key, title: entry.prompt,
      },
      el("img", { src: entry.image, alt: "", loading: "lazy" }),
      el("span", { class: "when", text: entry.current ? "current" : shortWhen(when) }));
      item.addEventListener("click", () => pickHistory(entry.key));
      return item;
    }));
  }

  function shortWhen(date) {
    if (!date) return "";
    const today = new Date().toDateString() === date.toDateString();
    return today
      ? date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", hourCycle: "h23" })
      : date.toLocaleDateString([], { month: "short", day: "numeric" });
  }

  async function pickHistory(key) {
    const picked = state.historyPicked;
    const at = picked.indexOf(key);
    if (at >= 0) picked.splice(at, 1);
    else {
      picked.push(key);
      if (picked.length > 2) picked.shift();
    }
    for (const item of $$("#history .history-item")) {
      item.classList.toggle("selected", picked.includes(item.dataset.key));
    }
    const box = $("#history-diff");
    if (picked.length !== 2) {
      box.hidden = true;
      return;
    }
    const [a, b] = picked;
    const query = new URLSearchParams({ panel: state.panel, a, b });
    try {
      const answer = await getJSON(`/api/history/diff?${query}`);
      const lines = (answer.diff || []).map(([op, text]) => el("div", {
        class: op === "+" ? "diff-add" : op === "-" ? "diff-del" : "diff-same",
        text: `${op === " " ? " " : op} ${text}`,
      }));
      box.replaceChildren(...(lines.length ? lines : [el("div", { class: "diff-same", text: "the same prompt" })]));
      box.hidden = false;
    } catch (error) {
      notice(error.message, true);
    }
  }

  async function runExplore(event) {
    event.preventDefault();
    const ref = state.panel;
    if (!ref) return;
    const toggles = $("#explore-toggles").value.split(",").map((s) => s.trim()).filter(Boolean);
    if (!toggles.length) {
      notice("Name the prompt items to combine, comma-separated (e.g. @noir, dutch angle).", true);
      return;
    }
    const button = $("#explore-run");
    button.disabled = true;
    try {
      const answer = await postJSON("/api/explore", { panel: ref, toggles, confirm: false });
      const plan = answer.plan || {};
      const cells = plan.cells ? plan.cells.length : 2 ** toggles.length;
      const yes = await confirmPlan(`Panel ${ref}: ${cells} combinations of ${toggles.join(", ")}.`, plan);
      if (!yes) return;
      notice(`Panel ${ref}: painting the combinations…`);
      const result = await postJSON("/api/explore", { panel: ref, toggles, confirm: true });
      $("#notice").hidden = true;
      renderExplore(ref, result.cells || []);
    } catch (error) {
      notice(error.message, true);
    } finally {
      button.disabled = false;
    }
  }

  function renderExplore(ref, cells) {
    const grid = $("#explore-grid");
    grid.classList.toggle("wide", cells.length > 4);
    grid.replaceChildren(...cells.map((cell, index) => {
      const label = el("ul", { class: "label" });
      const states = Object.entries(cell.states || {});
      if (states.length) {
        for (const [name, on] of states) {
          label.append(el("li", { class: on ? "on" : "off", text: name, title: on ? "on" : "off" }));
        }
      } else label.append(el("li", { text: cell.label }));
      const apply = el("button", { type: "button", class: "apply", text: "apply" });
      apply.addEventListener("click", async () => {
        apply.disabled = true;
        try {
          await postJSON("/api/explore/apply", { panel: ref, states: cell.states });
          notice(`Panel ${ref}: ${cell.label} written to the script.`);
          refreshPanel(ref);
        } catch (error) {
          notice(error.message, true);
        } finally {
          apply.disabled = false;
        }
      });
      return el("div", { class: "cell", "data-index": index, title: cell.label },
        cell.image ? el("img", { src: cell.image, alt: cell.label })
          : el("div", { class: "placeholder", text: "not painted" }),
        label, apply);
    }));
    grid.scrollIntoView({ block: "nearest", behavior: "smooth" });
  }

  // ---- keyboard ----------------------------------------------------------------

  function step(delta) {
    const refs = panelRefs();
    if (!refs.length) return;
    const at = refs.indexOf(state.panel);
    const next = at < 0 ? (delta > 0 ? 0 : refs.length - 1)
      : Math.min(refs.length - 1, Math.max(0, at + delta));
    openPanel(refs[next]);
  }

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const target = event.target;
    const typing = target instanceof HTMLInputElement && target.type !== "checkbox"
      || target instanceof HTMLTextAreaElement;
    if ($("dialog[open]")) return; // a dialog handles its own keys (Esc closes it)
    if (event.key === "Escape") {
      if (typing) target.blur();
      else if (state.panel) closeInspector();
      return;
    }
    if (typing) return;
    if (event.key === "j") { event.preventDefault(); step(1); }
    else if (event.key === "k") { event.preventDefault(); step(-1); }
    else if (event.key === "?") { event.preventDefault(); $("#help").showModal(); }
  });

  // ---- wiring ----------------------------------------------------------------------

  $("#inspector-close").addEventListener("click", closeInspector);
  $("#help-button").addEventListener("click", () => $("#help").showModal());
  $("#paint").addEventListener("click", paintPending);
  $("#paint-more").addEventListener("click", paintMore);
  $("#explore").addEventListener("submit", runExplore);
  for (const kind of ["mask", "init"]) {
    $(`#show-${kind}`).addEventListener("change", (event) => {
      $(`.overlay-${kind}`).hidden = !event.target.checked;
    });
  }

  function listen() {
    const events = new EventSource("/api/events");
    events.addEventListener("book", (event) => {
      let data = {};
      try { data = JSON.parse(event.data); } catch (_) { /* a bare "rebuilt" is enough */ }
      if (state.book && data.version === state.book.version) return;
      loadBook(data.changed_pages);
    });
    events.addEventListener("building", () => {
      renderStatus({ ...((state.book && state.book.status) || {}), building: true, message: "Rebuilding…" });
    });
    let lost = false;
    events.addEventListener("error", () => {
      // the browser reconnects by itself; say so while it is away
      if (events.readyState === EventSource.CONNECTING) {
        lost = true;
        renderStatus({ ok: false, building: false, message: "Reconnecting to comicc preview…", reasons: [] });
      }
    });
    events.addEventListener("open", () => {
      if (lost) loadBook(); // back: the book may have changed meanwhile
      lost = false;
    });
  }

  loadBook().then(listen);
})();
