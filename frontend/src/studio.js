// Earmark Studio's front-end: htmx for partial page updates, Vega-Lite charts, and the
// CodeMirror 6 rule editor. Bundled by build.mjs into one file the studio serves itself,
// so a page never loads anything from the internet.
import htmx from "htmx.org";
import embed from "vega-embed";
import { EditorView, basicSetup } from "codemirror";
import { hoverTooltip, keymap } from "@codemirror/view";
import { yaml, yamlLanguage } from "@codemirror/lang-yaml";
import { linter, lintGutter } from "@codemirror/lint";
import { stateExtensions } from "codemirror-json-schema";
import { yamlCompletion, yamlSchemaHover } from "codemirror-json-schema/yaml";

window.htmx = htmx;

// Every state-changing request carries the page's CSRF token (the studio refuses any
// that doesn't), htmx's as well as the editor's own.
const csrfToken = () => document.querySelector('meta[name="csrf-token"]')?.content ?? "";
document.addEventListener("htmx:configRequest", (event) => {
  event.detail.headers["X-CSRF-Token"] = csrfToken();
});

async function postJSON(url, body, method = "POST") {
  const response = await fetch(url, {
    method,
    headers: { "Content-Type": "application/json", "X-CSRF-Token": csrfToken() },
    body: JSON.stringify(body),
  });
  const data = await response.json().catch(() => ({ error: response.statusText }));
  if (!response.ok) throw new Error(data.error || response.statusText);
  return data;
}

// ---- charts -----------------------------------------------------------------------------

function drawCharts(root) {
  for (const element of root.querySelectorAll("[data-chart]")) {
    if (element.dataset.drawn) continue;
    element.dataset.drawn = "1";
    const spec = JSON.parse(document.getElementById(element.dataset.chart).textContent);
    // SVG, not canvas: every bar is an element a test (or a screen reader) can find.
    embed(element, spec, { actions: false, renderer: "svg" }).then(() => {
      element.dataset.ready = "1";
    });
  }
}

document.addEventListener("DOMContentLoaded", () => drawCharts(document));
document.addEventListener("htmx:afterSettle", (event) => drawCharts(event.target));

// ---- the rule editor --------------------------------------------------------------------

function diagnosticsFrom(doc, problems) {
  return problems.map((problem) => {
    const line = doc.line(Math.min(Math.max(problem.line, 1), doc.lines));
    const from = Math.min(line.from + Math.max(problem.column - 1, 0), line.to);
    // Underline to the end of the word the problem points at.
    const rest = doc.sliceString(from, line.to);
    const word = rest.match(/^[^\s:,\]}]+/);
    const to = word ? from + word[0].length : line.to;
    return {
      from,
      to: Math.max(to, from),
      severity: problem.severity === "warning" ? "warning" : "error",
      // The checker's words only; its code (e.g. unknown-key) is for searching the docs.
      message: problem.message,
      source: problem.code,
    };
  });
}

// Hovering a key shows what it means in the pack's own words (the schema's descriptions,
// written from pack.yaml) and, for a closed list, its values. The library's default shows
// schema jargon ("anyOf", "pattern: ^[a-z0-9]...") that a merchandiser can't act on.
const TYPE_WORDS = {
  string: "a text",
  number: "a number",
  integer: "a whole number",
  boolean: "true or false",
  array: "a list",
  object: "a group of settings",
  null: "nothing",
};

function typeInWords(schema) {
  const kinds = schema.anyOf || schema.oneOf;
  if (kinds) return [...new Set(kinds.map(typeInWords).filter(Boolean))].join(", or ");
  const types = Array.isArray(schema.type) ? schema.type : schema.type ? [schema.type] : [];
  return types.map((t) => TYPE_WORDS[t] || t).join(" or ");
}

function plainHoverTexts({ schema }) {
  const values = schema.enum ? `One of: ${schema.enum.join(", ")}` : "";
  return { message: schema.description || typeInWords(schema) || "", typeInfo: values };
}

function plainHover({ message, typeInfo }) {
  const box = document.createElement("div");
  box.className = "plain-hover";
  for (const text of [message, typeInfo]) {
    if (!text) continue;
    const line = document.createElement("p");
    line.textContent = text; // never markup: descriptions come from the pack's files
    box.append(line);
  }
  if (!box.childElementCount) box.textContent = "No description for this key.";
  return box;
}

function showStatus(element, text, kind) {
  element.textContent = text;
  element.dataset.kind = kind;
}

async function startEditor(host) {
  const path = host.dataset.path;
  const status = document.getElementById("editor-status");
  // Saves report in their own line: a check still running when the file is saved would
  // otherwise overwrite "saved" with its own result a moment later.
  const savedStatus = document.getElementById("editor-saved");
  const others = document.getElementById("editor-others");
  const schema = await (await fetch(host.dataset.schema)).json();
  const packCheck = linter(
    async (view) => {
      const started = performance.now();
      try {
        const result = await postJSON("/api/check", { path, text: view.state.doc.toString() });
        const took = Math.round(performance.now() - started);
        host.dataset.lastCheckMs = String(took);
        const here = result.problems.filter((p) => p.path === path);
        const elsewhere = result.problems.length - here.length;
        showStatus(
          status,
          here.length ? `${here.length} problem(s) in this file (checked in ${took} ms)` : `no problems (checked in ${took} ms)`,
          here.some((p) => p.severity === "error") ? "error" : "ok",
        );
        others.textContent = elsewhere ? `${elsewhere} problem(s) in other files of the working copy` : "";
        return diagnosticsFrom(view.state.doc, here);
      } catch (error) {
        showStatus(status, `could not check: ${error.message}`, "error");
        return [];
      }
    },
    { delay: 250 },
  );
  const save = async (view) => {
    try {
      const saved = await postJSON(`/api/files/${path}`, { text: view.state.doc.toString() }, "PUT");
      const header = document.getElementById("working-version");
      if (header) header.textContent = saved.working_version;
      if (saved.loads) {
        showStatus(savedStatus, `saved to the working copy, now ${saved.working_version}`, "ok");
      } else {
        showStatus(
          savedStatus,
          `saved, but the working copy does not load (${saved.problems} problem(s)): it can't be published until they are fixed`,
          "error",
        );
      }
    } catch (error) {
      showStatus(savedStatus, `not saved: ${error.message}`, "error");
    }
    return true;
  };
  const view = new EditorView({
    parent: host,
    doc: JSON.parse(document.getElementById("editor-doc").textContent),
    extensions: [
      basicSetup,
      keymap.of([{ key: "Mod-s", run: save, preventDefault: true }]),
      yaml(),
      yamlLanguage.data.of({ autocomplete: yamlCompletion() }),
      hoverTooltip(yamlSchemaHover({ getHoverTexts: plainHoverTexts, formatHover: plainHover })),
      stateExtensions(schema),
      packCheck,
      lintGutter(),
    ],
  });
  window.studioEditor = view;
  goToLine(view, window.location.hash);
  document.getElementById("editor-save")?.addEventListener("click", () => save(view));
}

// The Rules page, the warnings and the missing-data table link to /edit/FILE#line-N: open
// the file with the cursor on that line, scrolled into the middle of the editor.
function goToLine(view, hash) {
  const match = /^#line-(\d+)$/.exec(hash);
  if (!match) return;
  const number = Math.min(Math.max(Number(match[1]), 1), view.state.doc.lines);
  const line = view.state.doc.line(number);
  view.dispatch({
    selection: { anchor: line.from },
    effects: EditorView.scrollIntoView(line.from, { y: "center" }),
  });
  view.focus();
}

document.addEventListener("DOMContentLoaded", () => {
  const host = document.getElementById("editor");
  if (host) startEditor(host);
});
