/** DOM helpers: elements are built from text, never from HTML strings. */

export const $ = (id) => document.getElementById(id);

/** Build an element: h("li", {class: "x", dataset: {id: 1}}, "text", child). Text only, never HTML. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value == null || value === false) continue;
    if (key === "class") el.className = value;
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else el.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child == null || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

export function show(el, visible) {
  el.hidden = !visible;
}

export function toast(text, kind = "info") {
  const item = h("div", { class: `toast toast-${kind}`, role: kind === "error" ? "alert" : "status" }, text);
  $("toasts").append(item);
  setTimeout(() => item.remove(), 5000);
}

/** Show a form's error line (or hide it with an empty text). */
export function formError(el, text) {
  el.textContent = text ?? "";
  show(el, Boolean(text));
}

/** Run a form submission with its submit button disabled meanwhile. */
export async function busy(form, fn) {
  const submit = form.querySelector("button[type=submit]");
  if (submit) submit.disabled = true;
  try {
    return await fn();
  } finally {
    if (submit) submit.disabled = false;
  }
}

/** Call `fn` once, `ms` after the last of a burst of calls. */
export function debounce(fn, ms) {
  let timer = null;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}
