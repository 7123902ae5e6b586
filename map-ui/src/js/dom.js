// A tiny element builder, so views stay readable without a framework.

/** h('button', {type: 'button', onclick}, 'text', child...) */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

let uid = 0;
/** A labelled form control: <label for=id>text</label><control id=id>. */
export function field(text, control) {
  if (!control.id) control.id = `f${++uid}`;
  return [h('label', { for: control.id }, text), control];
}

/** Appends children, skipping null/false (native append would print "null"). */
export function add(el, ...children) {
  el.append(...children.flat(2).filter((c) => c !== null && c !== undefined && c !== false));
  return el;
}

export function clear(el) {
  while (el.firstChild) el.firstChild.remove();
  return el;
}

/** Replaces the children of `el`. */
export function fill(el, ...children) {
  return add(clear(el), ...children);
}
