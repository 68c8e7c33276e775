"""Keyboard shortcuts: one small static script, mounted once per page run, that clicks our buttons.

The script receives no data at all (no trace text, no ids): it finds the widgets by the `st-key-*`
class Streamlit gives every keyed element, and it does nothing while focus is in a text field
(Escape leaves the field). Widget keys it knows about:

    ann_<segment>_submit  ann_<segment>_skip  ann_<segment>_unsure  ann_<segment>_none
    ann_<segment>_m_<c>_<m>  (mode m of category c, both 1-based)  ann_<segment>_filter
    ann_<segment>_codebook  ann_<segment>_loc_here  (localisation: the decisive error is at the turn being read)
    nav_prev  nav_next  annotate_context  review_context  (the neighbouring-turns switches)
"""

from __future__ import annotations

import streamlit as st

CHEAT_SHEET = (
    ("1-9, 1-9", "tick a mode: category, then mode (1 3 = 1.3)"),
    ("0 / N", "No failure"),
    ("U", "Unsure"),
    ("S / Enter", "Submit, go to next"),
    ("X", "Skip"),
    ("L", "Decisive error at this turn (localisation)"),
    ("T", "show / hide the neighbouring turns"),
    ("C", "open the codebook"),
    ("J / →", "next in your list"),
    ("K / ←", "previous in your list"),
    ("R", "write the reason for the mode just ticked"),
    ("/", "filter the modes (applies as you type)"),
    ("Esc", "leave a text field (from a reason: back to its mode)"),
)

_JS = r"""
export default function () {
  // One listener per page load: reruns remount this component, and a listener that came and went
  // with them could drop a key, or half a chord, pressed at that moment.
  if (window.__annotatorKeys) return;
  window.__annotatorKeys = true;
  const TEXT_INPUTS = ['checkbox', 'radio', 'button', 'submit', 'reset', 'range', 'color', 'file'];
  const typing = (el) => {
    if (!el || !el.tagName) return false;
    if (el.isContentEditable) return true;
    if (el.tagName === 'TEXTAREA' || el.tagName === 'SELECT') return true;
    return el.tagName === 'INPUT' && !TEXT_INPUTS.includes((el.type || '').toLowerCase());
  };
  const find = (re, liveOnly) => {  // the element whose st-key-* class matches; stale = mid-rerun
    let stale = null;
    for (const el of document.querySelectorAll('[class*="st-key-"]')) {
      if (![...el.classList].some((name) => re.test(name))) continue;
      if (!el.closest('[data-stale="true"]')) return el;
      stale = stale || el;
    }
    return liveOnly ? null : stale;
  };
  // Keys become jobs, done one at a time in the order pressed, each once the app is idle: no run in
  // progress, and the run the previous click asked for has come and gone. A change made while a run is
  // under way (or about to start) can be lost, and Submit must come after the ticks pressed before it.
  // How long a run takes to start depends on the machine and its load, so it is watched, not guessed: the
  // page marks its state on stApp, and an observer notes every run that ends. Submit and Skip end their
  // run early and ask for another, which shows the next segment: after them the queue also waits until
  // the page shows another segment, or an error saying why it cannot. A job finds its element when its
  // turn comes, so a key pressed after Submit acts on the next segment; if there is none (the page is
  // gone), the job is dropped.
  // A run can also be too quick to show (both state changes drawn at once): then nothing more comes,
  // and after IDLE_LIMIT_MS of an idle page the queue goes on (the click has had its effect by then).
  const IDLE_LIMIT_MS = 3000;
  const scriptState = () => document.querySelector('[data-testid="stApp"]')?.dataset.testScriptState;
  const running = () => scriptState() === 'running';
  let lastClick = null;  // {at, ran, leaving}: the last click, until the page has answered it
  new MutationObserver((records) => {
    if (lastClick && records.some((r) => r.oldValue === 'running')) lastClick.ran = true;  // a run ended
  }).observe(document.body, {subtree: true, attributes: true, attributeOldValue: true,
                             attributeFilter: ['data-test-script-state']});
  const errorShown = () => [...document.querySelectorAll('[data-testid="stAlert"]')]
    .some((alert) => !alert.closest('[data-stale="true"]'));
  const busy = () => {
    if (running()) {
      if (lastClick) { lastClick.ran = true; lastClick.at = Date.now(); }
      return true;
    }
    if (!lastClick) return false;
    const answered = lastClick.ran && (lastClick.leaving === null || segment() !== lastClick.leaving || errorShown());
    if (answered || Date.now() - lastClick.at > IDLE_LIMIT_MS) lastClick = null;
    return lastClick !== null;
  };
  const NOT_DRAWN = 'not drawn';
  const queue = [];
  const root = document.documentElement;
  const pending = () => { root.dataset.annotatorPending = String(queue.length); };  // keys not yet done
  let pumping = false;
  const pump = () => {
    pending();
    const job = queue[0];
    if (!job) { pumping = false; return; }
    if (!busy()) {
      const re = job.target(), live = re && find(re, true);
      // use: NOT_DRAWN (its control is not there yet: try again), false (nothing to click), true (clicked),
      // or 'leave' (clicked Submit or Skip: the segment changes)
      const clicked = live ? job.use(live, re) : NOT_DRAWN;
      if (clicked !== NOT_DRAWN) {
        queue.shift();
        if (clicked) lastClick = {at: Date.now(), ran: false, leaving: clicked === 'leave' ? segment() : null};
      } else if (!re || !find(re, false)) {
        queue.shift();
      }
    }
    if (--job.tries <= 0 && queue[0] === job) queue.shift();  // two minutes without a chance: give up
    setTimeout(pump, 50);
  };
  const act = (target, use) => {  // target: a RegExp, or a function giving one when the job runs
    const resolve = typeof target === 'function' ? target : () => target;
    const re = resolve();
    // A key for an element that is not on the page is not ours, unless the page is still being drawn, keys
    // before it are still waiting, or the last click's run has not come yet (R after a tick: the reason field
    // comes with the tick's run, which may start a moment after the click): then it waits its turn like the
    // others, and is dropped only if its element never comes.
    if (!(re && find(re, false)) && !queue.length && !busy()) return false;
    queue.push({target: resolve, use, tries: 2400});
    pending();
    if (!pumping) { pumping = true; pump(); }
    return true;
  };
  const segment = () => {  // the id of the segment on the page, from its Submit button's key
    const el = find(/^st-key-ann_\d+_submit$/, false);
    return el ? [...el.classList].join(' ').match(/st-key-ann_(\d+)_submit/)[1] : null;
  };
  const mine = (suffix) => () => { const id = segment(); return id && new RegExp(`^st-key-ann_${id}_${suffix}$`); };
  const click = (selector) => (el) => {  // true when it clicked (a run will follow)
    const c = el.querySelector(selector);
    if (!c) return NOT_DRAWN;  // the element is on the page, its control not yet
    if (c.disabled) return false;
    c.click();
    return true;
  };
  const press = (re) => act(re, click('button'));
  const toggle = (re) => act(re, click('input[type="checkbox"]'));
  let lastSend = {name: '', t: 0};
  // Submit / skip: a repeated press on the same button (same segment) within 1.5 s is dropped.
  const send = (target) => act(target, (el, re) => {
    const name = [...el.classList].find((n) => re.test(n)), t = Date.now();
    if (name === lastSend.name && t - lastSend.t < 1500) return false;
    const clicked = click('button')(el);
    if (clicked === NOT_DRAWN) return clicked;
    lastSend = {name, t};
    return clicked && 'leave';
  });
  const focus = (re) => {  // at once, live or stale: the next keys typed must land in the field
    const input = find(re, false)?.querySelector('input');
    if (input) input.focus();
    return !!input;
  };
  // R: into the reason field of the mode ticked last (by key or by mouse); Esc there: back to its checkbox.
  let lastTicked = null;  // 'm_<c>_<m>' of the segment on the page
  const MODE_BOX = /^st-key-ann_\d+_(m_\d+_\d+)$/;
  document.addEventListener('change', (e) => {
    const box = e.target?.closest?.('[class*="st-key-ann_"]');
    const name = box && [...box.classList].find((n) => MODE_BOX.test(n));
    if (name && e.target.checked) lastTicked = name.match(MODE_BOX)[1];
  }, true);
  const intoField = (el) => {  // a job's use(): focus the field (no click, no run)
    const input = el.querySelector('input, textarea');
    if (!input) return NOT_DRAWN;
    input.focus();
    return false;
  };
  // Which mode is known only when the job runs: R typed right after 1 3 comes before the tick is clicked.
  const reason = () => act(() => lastTicked !== null && mine(`${lastTicked}_why`)(), intoField);
  const backToMode = (field) => {  // Esc in a reason field: focus its mode's checkbox, where the keys work
    const box = field.closest('[class*="st-key-ann_"]');
    const name = box && [...box.classList].find((n) => /^st-key-ann_\d+_m_\d+_\d+_why$/.test(n));
    const mode = name && find(new RegExp(`^${name.slice(0, -4)}$`), true)?.querySelector('input[type="checkbox"]');
    if (mode) mode.focus();
  };
  // The mode filter and the codebook search apply as she types: Streamlit applies a text field on Enter or
  // when it loses focus, so a short pause in typing presses Enter for her (the field keeps the focus).
  const LIVE = /^st-key-(ann_\d+_filter|annotate_codebook_search)$/;
  let liveTimer = null;
  document.addEventListener('input', (e) => {
    const input = e.target;
    const box = input?.closest?.('[class*="st-key-"]');
    if (!box || ![...box.classList].some((n) => LIVE.test(n))) return;
    clearTimeout(liveTimer);
    liveTimer = setTimeout(() => {
      if (!input.isConnected) return;
      input.dispatchEvent(new KeyboardEvent('keydown', {key: 'Enter', code: 'Enter', keyCode: 13, bubbles: true}));
    }, 250);
  }, true);
  const hint = document.createElement('div');  // shows a chord in progress ("mode 1.…"): static text only
  Object.assign(hint.style, {position: 'fixed', right: '1.5rem', bottom: '1.5rem', zIndex: 1000,
    padding: '.35rem .7rem', borderRadius: '.5rem', background: '#262730', color: '#fff',
    font: '600 .95rem/1.2 sans-serif', opacity: '.9'});
  hint.hidden = true;
  document.body.appendChild(hint);
  let chord = null, chordTimer = null;
  const endChord = () => { chord = null; clearTimeout(chordTimer); hint.hidden = true; };
  const actions = {
    s: () => send(mine('submit')),
    x: () => send(mine('skip')),
    l: () => press(mine('loc_here')),
    u: () => toggle(mine('unsure')),
    n: () => toggle(mine('none')),
    0: () => toggle(mine('none')),
    j: () => press(/^st-key-nav_next$/),
    arrowright: () => press(/^st-key-nav_next$/),
    k: () => press(/^st-key-nav_prev$/),
    arrowleft: () => press(/^st-key-nav_prev$/),
    t: () => toggle(/^st-key-(annotate|review)_context$/),
    c: () => press(mine('codebook')),
    r: reason,
    '/': () => focus(/^st-key-ann_\d+_filter$/),
  };
  document.addEventListener('keydown', (e) => {
    const target = e.composedPath ? e.composedPath()[0] : e.target;
    if (typing(target)) {
      if (e.key === 'Escape') { target.blur(); backToMode(target); }
      return;
    }
    if (e.ctrlKey || e.metaKey || e.altKey || e.isComposing || e.repeat) return;
    const key = e.key.toLowerCase();
    if (/^[1-9]$/.test(key)) {
      if (chord === null) {
        chord = key; hint.textContent = `mode ${key}.…`; hint.hidden = false;
        clearTimeout(chordTimer); chordTimer = setTimeout(endChord, 2000);
      } else {
        const re = mine(`m_${chord}_${key}`);
        endChord(); toggle(re);
      }
      e.preventDefault();
      return;
    }
    endChord();
    if (key === 'enter') {
      const onBody = target === document.body || (target.tagName === 'INPUT' && target.type === 'checkbox');
      if (onBody && send(mine('submit'))) e.preventDefault();
      return;
    }
    const action = actions[key];
    if (action && action()) e.preventDefault();
  });
  pending();
  root.dataset.annotatorKeys = 'on';  // lets tests wait until shortcuts work (and annotatorPending: until done)
}
"""

_component = st.components.v2.component("annotator_keys", js=_JS)


def install() -> None:
    """Mount the shortcut script (once per page run; it replaces its own earlier listener)."""
    _component(key="annotator_keys", height=0)


def show_cheat_sheet(container=st) -> None:
    """The shortcuts, always visible beside the labels (static text only)."""
    container.markdown("  \n".join(f"`{keys}` {action}" for keys, action in CHEAT_SHEET))
