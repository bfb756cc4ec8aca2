// The page's style: system fonts only (no downloads), light and dark from prefers-color-scheme,
// one column on a phone and two (inputs beside the result) from 900px.
export const style = `
:root {
  color-scheme: light dark;
  --bg: #f4f6f9; --panel: #fff; --text: #1b2130; --muted: #586173; --border: #d5dbe5; --field: #fff;
  --accent: #2456c7; --accent-text: #fff; --accent-soft: #e7eefc; --focus: #2456c7;
  --danger: #b42318; --danger-soft: #fdf0ef; --danger-border: #f0b4ad; --code: #f0f2f6;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #11141a; --panel: #1a1f28; --text: #e6e9ef; --muted: #9ea7b6; --border: #343c4b; --field: #12161d;
    --accent: #7ea6ff; --accent-text: #0b1020; --accent-soft: #1f2a45; --focus: #9dbbff;
    --danger: #ff9b90; --danger-soft: #2d1a1a; --danger-border: #6e302b; --code: #12161d;
  }
}
* { box-sizing: border-box; }
[hidden] { display: none !important; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; background: var(--bg); color: var(--text); }
a { color: var(--accent); }
:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; }
header.model, .layout { max-width: 1200px; margin: 0 auto; padding-left: 1rem; padding-right: 1rem; }
header.model { padding-top: 1.5rem; padding-bottom: .75rem; }
.model-title { display: flex; align-items: baseline; flex-wrap: wrap; gap: .6rem; }
h1 { font-size: 1.6rem; line-height: 1.2; margin: 0; overflow-wrap: anywhere; }
.version { font-size: .8rem; font-weight: 600; padding: .1rem .55rem; border-radius: 999px; background: var(--accent-soft); color: var(--accent); }
.description { margin: .4rem 0 .3rem; color: var(--muted); max-width: 75ch; white-space: pre-line; }
.links { display: flex; flex-wrap: wrap; gap: 1rem; font-size: .9rem; }
.layout { display: grid; grid-template-columns: minmax(0, 1fr); gap: 1rem; padding-bottom: 2rem; }
@media (min-width: 900px) {
  .layout { grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); align-items: start; }
  .output { position: sticky; top: 1rem; }
}
.panel { background: var(--panel); border: 1px solid var(--border); border-radius: 10px; padding: 1rem 1.25rem 1.25rem; }
h2 { font-size: 1.05rem; margin: 0 0 .75rem; }
.panel-head { display: flex; align-items: center; justify-content: space-between; gap: .5rem; flex-wrap: wrap; margin-bottom: .25rem; }
.panel-head h2 { margin-bottom: .5rem; }
.field { display: grid; gap: .3rem; margin-bottom: 1.15rem; }
label { font-weight: 600; overflow-wrap: anywhere; }
.required { color: var(--danger); }
.help { color: var(--muted); font-size: .85rem; }
textarea, input[type=number], select {
  font: inherit; color: inherit; background: var(--field); width: 100%;
  padding: .45rem .6rem; border: 1px solid var(--border); border-radius: 6px;
}
textarea { resize: vertical; }
input[type=number] { max-width: 14rem; }
select { max-width: 24rem; }
.field-json textarea, pre, code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .88rem; }
.check { display: flex; align-items: center; gap: .55rem; }
.check input { width: 1.15rem; height: 1.15rem; margin: 0; accent-color: var(--accent); }
.drop {
  position: relative; display: flex; flex-direction: column; align-items: center; justify-content: center; gap: .5rem;
  min-height: 7.5rem; padding: 1rem; text-align: center; cursor: pointer; color: var(--muted);
  background: var(--bg); border: 2px dashed var(--border); border-radius: 8px; transition: border-color .15s, background-color .15s;
}
.drop:hover, .drop.dragging { border-color: var(--accent); background: var(--accent-soft); }
.drop:has(.drop-input:focus-visible) { outline: 3px solid var(--focus); outline-offset: 2px; border-color: var(--accent); }
.drop-input { position: absolute; inset: auto; width: 1px; height: 1px; opacity: 0; pointer-events: none; }
.drop-hint strong { color: var(--text); }
.drop.has-file .drop-hint { font-size: .85rem; }
.pick { color: var(--accent); text-decoration: underline; }
.preview { display: block; max-width: 100%; max-height: 240px; border-radius: 6px; }
.drop-chosen { font-size: .85rem; color: var(--text); overflow-wrap: anywhere; }
.example { display: flex; align-items: center; flex-wrap: wrap; gap: .4rem; margin: 0; font-size: .85rem; color: var(--muted); }
.example code { background: var(--code); padding: .1rem .35rem; border-radius: 4px; overflow-wrap: anywhere; }
.example-thumb { height: 2.75rem; width: auto; border-radius: 4px; border: 1px solid var(--border); }
button, .button {
  display: inline-flex; align-items: center; gap: .4rem; font: inherit; font-weight: 600; text-decoration: none; cursor: pointer;
  padding: .55rem 1.4rem; border: 1px solid transparent; border-radius: 6px; background: var(--accent); color: var(--accent-text);
}
button.secondary, .button.secondary { background: transparent; color: var(--accent); border-color: var(--border); padding: .3rem .8rem; font-size: .85rem; }
button.secondary:hover, .button.secondary:hover { background: var(--accent-soft); }
button.link-button { justify-self: start; background: none; border: 0; padding: 0; color: var(--accent); font-size: .85rem; font-weight: 500; text-decoration: underline; }
button:disabled { opacity: .65; cursor: progress; }
.actions { display: flex; align-items: center; flex-wrap: wrap; gap: .75rem; margin-top: .5rem; }
.shortcut { color: var(--muted); font-size: .8rem; }
.field.invalid > label { color: var(--danger); }
.field.invalid textarea, .field.invalid input[type=number], .field.invalid select, .field.invalid .drop { border-color: var(--danger); box-shadow: 0 0 0 1px var(--danger); }
.field-error { margin: 0; color: var(--danger); font-size: .88rem; font-weight: 600; }
.status { display: flex; align-items: center; gap: .6rem; margin-bottom: .75rem; font-weight: 600; }
.status:empty { margin: 0; }
.elapsed { font-variant-numeric: tabular-nums; color: var(--muted); font-weight: 400; }
.spinner { width: 1.1rem; height: 1.1rem; border: 2px solid var(--accent-soft); border-top-color: var(--accent); border-radius: 50%; animation: spin .8s linear infinite; }
@keyframes spin { to { transform: rotate(360deg); } }
@media (prefers-reduced-motion: reduce) { .spinner { animation-duration: 3s; } }
.output.running #result { opacity: .45; }
.output.running #result.partial { opacity: 1; }
.placeholder { margin: 0; color: var(--muted); }
.output-kind { margin: -.2rem 0 .6rem; color: var(--muted); font-size: .9rem; }
.result-meta { margin: 0 0 .6rem; color: var(--muted); font-size: .85rem; }
.output-image, .output-media { display: block; max-width: 100%; border-radius: 6px; }
.output-fields { display: grid; gap: .9rem; }
.output-field-name { margin: 0 0 .35rem; font-size: .95rem; font-family: ui-monospace, monospace; }
.output-field .output-file { display: flex; flex-wrap: wrap; align-items: center; gap: .5rem; margin: .4rem 0 0; color: var(--muted); font-size: .85rem; }
pre { margin: 0; padding: .75rem; white-space: pre-wrap; overflow-wrap: anywhere; background: var(--code); border-radius: 6px; max-height: 65vh; overflow: auto; line-height: 1.45; }
.result-actions { display: flex; flex-wrap: wrap; align-items: center; gap: .5rem; margin-top: .75rem; }
.copy-note { color: var(--muted); font-size: .85rem; }
#result.failure { padding: .8rem 1rem; border: 1px solid var(--danger-border); border-radius: 8px; background: var(--danger-soft); }
.failure-title { margin: 0; color: var(--danger); font-weight: 700; }
.failure-message { margin: .3rem 0 0; overflow-wrap: anywhere; }
.failure-code { margin: .4rem 0 0; color: var(--muted); font-size: .8rem; }
/* A phone has neither drag-and-drop between apps nor Ctrl: its hint is the tap. */
@media (pointer: coarse) { .fine-pointer, .shortcut { display: none; } .pick { font-weight: 600; } }
.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip-path: inset(50%); white-space: nowrap; }
`;
