"""Keyboard shortcuts: one small static script, mounted once per page run, that clicks our buttons.

The script receives no data at all (no trace text, no ids): it finds the widgets by the `st-key-*`
class Streamlit gives every keyed element, and it does nothing while focus is in a text field
(Escape leaves the field). Widget keys it knows about:

    ann_<segment>_submit  ann_<segment>_skip  ann_<segment>_unsure  ann_<segment>_none
    ann_<segment>_m_<c>_<m>  (mode m of category c, both 1-based)  ann_<segment>_filter
    nav_prev  nav_next
"""

from __future__ import annotations

import streamlit as st

CHEAT_SHEET = (
    ("1-9, 1-9", "tick a mode: category, then mode (1 3 = 1.3)"),
    ("0 / N", "No failure"),
    ("U", "Unsure"),
    ("S / Enter", "Submit, go to next"),
    ("X", "Skip"),
    ("J / →", "next in your list"),
    ("K / ←", "previous in your list"),
    ("/", "filter the modes"),
    ("Esc", "leave a text field"),
)

_HTML = '<div class="kb-hint" aria-live="polite" hidden></div>'

_CSS = """
.kb-hint { position: fixed; right: 1.5rem; bottom: 1.5rem; z-index: 1000; padding: .35rem .7rem;
  border-radius: .5rem; background: #262730; color: #fff; font: 600 .95rem/1.2 sans-serif; opacity: .9; }
"""

_JS = r"""
export default function (component) {
  const hint = component.parentElement.querySelector('.kb-hint');
  const TEXT_INPUTS = ['checkbox', 'radio', 'button', 'submit', 'reset', 'range', 'color', 'file'];
  const typing = (el) => {
    if (!el || !el.tagName) return false;
    if (el.isContentEditable) return true;
    if (el.tagName === 'TEXTAREA' || el.tagName === 'SELECT') return true;
    return el.tagName === 'INPUT' && !TEXT_INPUTS.includes((el.type || '').toLowerCase());
  };
  const find = (re) => {  // the element whose key matches, preferring a live one to a stale one (mid-rerun)
    let stale = null;
    for (const el of document.querySelectorAll('[class*="st-key-"]')) {
      if (![...el.classList].some((name) => re.test(name))) continue;
      if (!el.closest('[data-stale="true"]')) return el;
      stale = stale || el;
    }
    return stale;
  };
  const press = (re) => {
    const button = find(re)?.querySelector('button');
    if (button && !button.disabled) { button.click(); return true; }
    return false;
  };
  const toggle = (re) => {
    const box = find(re)?.querySelector('input[type="checkbox"]');
    if (box && !box.disabled) { box.click(); return true; }
    return false;
  };
  const show = (text) => { hint.textContent = text; hint.hidden = !text; };
  let chord = null, chordTimer = null, lastSend = {el: null, t: 0};
  const endChord = () => { chord = null; clearTimeout(chordTimer); show(''); };
  const send = (re) => {  // submit / skip: a second press on the same button while the first is on its way is dropped
    const el = find(re), t = Date.now();
    if (!el) return false;
    if (el === lastSend.el && t - lastSend.t < 1500) return true;
    lastSend = {el, t};
    const button = el.querySelector('button');
    if (button && !button.disabled) { button.click(); return true; }
    return false;
  };
  const actions = {
    s: () => send(/^st-key-ann_\d+_submit$/),
    x: () => send(/^st-key-ann_\d+_skip$/),
    u: () => toggle(/^st-key-ann_\d+_unsure$/),
    n: () => toggle(/^st-key-ann_\d+_none$/),
    0: () => toggle(/^st-key-ann_\d+_none$/),
    j: () => press(/^st-key-nav_next$/),
    arrowright: () => press(/^st-key-nav_next$/),
    k: () => press(/^st-key-nav_prev$/),
    arrowleft: () => press(/^st-key-nav_prev$/),
    '/': () => { const f = find(/^st-key-ann_\d+_filter$/)?.querySelector('input'); if (f) f.focus(); return !!f; },
  };
  const onKey = (e) => {
    const target = e.composedPath ? e.composedPath()[0] : e.target;
    if (typing(target)) {
      if (e.key === 'Escape') target.blur();
      return;
    }
    if (e.ctrlKey || e.metaKey || e.altKey || e.isComposing || e.repeat) return;
    const key = e.key.toLowerCase();
    if (/^[1-9]$/.test(key)) {
      if (chord === null) {
        chord = key; show(`mode ${key}.…`);
        clearTimeout(chordTimer); chordTimer = setTimeout(endChord, 1500);
      } else {
        const re = new RegExp(`^st-key-ann_\\d+_m_${chord}_${key}$`);
        endChord(); toggle(re);
      }
      e.preventDefault();
      return;
    }
    endChord();
    if (key === 'enter') {
      const onBody = target === document.body || (target.tagName === 'INPUT' && target.type === 'checkbox');
      if (onBody && send(/^st-key-ann_\d+_submit$/)) e.preventDefault();
      return;
    }
    const action = actions[key];
    if (action && action()) e.preventDefault();
  };
  if (window.__annotatorKeys) document.removeEventListener('keydown', window.__annotatorKeys);
  window.__annotatorKeys = onKey;
  document.addEventListener('keydown', onKey);
  document.documentElement.dataset.annotatorKeys = 'on';  // lets tests wait until shortcuts work
  return () => {
    document.removeEventListener('keydown', onKey);
    delete document.documentElement.dataset.annotatorKeys;
    if (window.__annotatorKeys === onKey) window.__annotatorKeys = null;
    endChord();
  };
}
"""

_component = st.components.v2.component("annotator_keys", html=_HTML, css=_CSS, js=_JS)


def install() -> None:
    """Mount the shortcut script (once per page run; it replaces its own earlier listener)."""
    _component(key="annotator_keys", height=0)


def show_cheat_sheet(container=st) -> None:
    """The shortcuts, always visible beside the labels (static text only)."""
    container.markdown("  \n".join(f"`{keys}` {action}" for keys, action in CHEAT_SHEET))
