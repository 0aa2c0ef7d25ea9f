'use strict';
/* Shared by both pages: building and patching the DOM, live data, the header and the recent orders. */

const SVG_TAGS = new Set([
  'svg',
  'path',
  'polyline',
  'polygon',
  'line',
  'circle',
  'defs',
  'marker',
  'g',
]);

/** Builds an element; text always goes in as text nodes, so data can never become markup. */
function h(tag, attrs, ...children) {
  const el = SVG_TAGS.has(tag)
    ? document.createElementNS('http://www.w3.org/2000/svg', tag)
    : document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    // style through the CSSOM so a strict Content-Security-Policy still allows it
    if (name === 'style') el.style.cssText = value;
    else el.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child !== null && child !== undefined && child !== false) el.append(child);
  }
  return el;
}

/** Makes `live` look like `next`, touching only what differs, so updates neither jump nor lose hover. */
function morph(live, next) {
  if (live.nodeType !== next.nodeType || live.nodeName !== next.nodeName)
    return live.replaceWith(next);
  if (live.nodeType === Node.TEXT_NODE) {
    if (live.data !== next.data) live.data = next.data;
    return;
  }
  for (const { name } of [...live.attributes])
    if (!next.hasAttribute(name)) live.removeAttribute(name);
  for (const { name, value } of [...next.attributes]) {
    if (live.getAttribute(name) === value) continue;
    if (name === 'style') live.style.cssText = next.style.cssText;
    else live.setAttribute(name, value);
  }
  syncChildren(live, next);
}

const keyOf = (node) =>
  node.nodeType === Node.ELEMENT_NODE ? node.getAttribute('data-key') : null;

/** Children with a data-key are matched by key (they may move), the others by position. */
function syncChildren(live, next) {
  const byKey = new Map();
  for (const child of live.childNodes) if (keyOf(child) !== null) byKey.set(keyOf(child), child);
  let cursor = live.firstChild;
  for (const wanted of [...next.childNodes]) {
    const key = keyOf(wanted);
    const match = key !== null ? byKey.get(key) : cursor && keyOf(cursor) === null ? cursor : null;
    byKey.delete(key);
    if (!match) {
      live.insertBefore(wanted, cursor);
      continue;
    }
    if (match === cursor) cursor = cursor.nextSibling;
    else live.insertBefore(match, cursor);
    morph(match, wanted);
  }
  while (cursor) {
    const after = cursor.nextSibling;
    cursor.remove();
    cursor = after;
  }
}

/** Replaces an element's children with `children`, reusing what is already there. */
function patch(el, ...children) {
  syncChildren(el, h('div', null, ...children));
}

async function getJson(url, init) {
  const res = await fetch(url, { headers: { accept: 'application/json' }, ...init });
  if (!res.ok) throw new Error(`${url} answered ${res.status}`);
  return res.json();
}

/**
 * Follows a server-sent-event stream; if it fails, polls the plain URL every second instead.
 * `onData` may return 'done' to stop polling (nothing more will change).
 */
function follow(streamUrl, eventName, pollUrl, onData) {
  let stopped = false;
  let streamed = false;
  let timer = null;
  const source = new EventSource(streamUrl);
  const poll = async () => {
    if (stopped) return;
    try {
      const outcome = onData(await getJson(pollUrl));
      setConnection('polling');
      if (outcome === 'done') return;
    } catch {
      setConnection('offline');
    }
    timer = setTimeout(poll, 1000);
  };
  source.addEventListener(eventName, (message) => {
    streamed = true;
    setConnection('live');
    onData(JSON.parse(message.data));
  });
  source.onerror = () => {
    source.close();
    if (!stopped && timer === null) poll();
  };
  // first paint without waiting for the first event; a streamed event is newer, so it wins
  getJson(pollUrl).then(
    (data) => streamed || stopped || onData(data),
    () => {},
  );
  return () => {
    stopped = true;
    source.close();
    clearTimeout(timer);
  };
}

function setConnection(state) {
  const el = document.getElementById('connection');
  el.textContent = state;
  el.dataset.state = state;
}

const orderPath = (orderId) => `/orders/${encodeURIComponent(orderId)}`;
const shortId = (id) => (id.length > 13 ? `${id.slice(0, 8)}…` : id);
const badge = (status) =>
  h('span', { class: `badge st-${String(status).toLowerCase()}` }, status ?? '…');

function formatMs(ms) {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}

function ago(iso) {
  const seconds = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  if (seconds < 60) return `${seconds} s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  return new Date(iso).toLocaleTimeString();
}

/* The header's button: the 202 comes back at once, long before the order's outcome. */

function initPlaceOrder(onAccepted) {
  const button = document.querySelector('[data-testid="place-order"]');
  button.addEventListener('click', async () => {
    button.disabled = true;
    showPlaceNote('placing…');
    try {
      // the body says what the order service answered, whatever status the console's own answer has
      const result = await (await fetch('/api/sample-order', { method: 'POST' })).json();
      if (result.status === 202 && result.orderId) {
        sessionStorage.setItem('flow-console.accepted', JSON.stringify(result));
        showAccepted(result);
        onAccepted(result);
      } else {
        showPlaceNote(`the order service answered ${result.status}`, true);
      }
    } catch {
      showPlaceNote('could not reach the console', true);
    } finally {
      button.disabled = false;
    }
  });
}

function showAccepted(result) {
  const el = document.querySelector('[data-testid="accepted"]');
  el.textContent = `202 Accepted in ${Math.round(result.acceptedInMs)} ms`;
  el.hidden = false;
  showPlaceNote(`order ${shortId(result.orderId)}`);
}

/** After navigating to the new journey, the 202 stays in view. */
function restoreAccepted(orderId) {
  const saved = JSON.parse(sessionStorage.getItem('flow-console.accepted') || 'null');
  if (saved && saved.orderId === orderId) showAccepted(saved);
}

function showPlaceNote(text, isError = false) {
  const note = document.getElementById('place-note');
  note.textContent = text;
  note.classList.toggle('error', isError);
}

/* Recent orders, newest first. */

let currentOrderId = null;
let recentOrders = null;

function initRecentOrders(onPick) {
  const list = document.querySelector('[data-testid="recent-orders"]');
  list.addEventListener('click', (event) => {
    const link = event.target.closest('a[data-order-link]');
    if (!onPick || !link || event.button !== 0 || event.metaKey || event.ctrlKey) return;
    event.preventDefault();
    onPick(link.dataset.orderLink);
  });
  const refresh = async () => {
    try {
      recentOrders = (await getJson('/api/orders/recent')).orders;
      renderRecentOrders();
    } catch {
      /* the next refresh tries again */
    }
    setTimeout(refresh, 2000);
  };
  refresh();
}

function setCurrentOrder(orderId) {
  currentOrderId = orderId;
  if (recentOrders) renderRecentOrders();
}

function renderRecentOrders() {
  const list = document.querySelector('[data-testid="recent-orders"]');
  if (recentOrders.length === 0)
    return patch(list, h('li', { class: 'empty' }, 'No orders yet: place one.'));
  patch(
    list,
    recentOrders.map((order) =>
      h(
        'li',
        {
          'data-key': order.orderId,
          'data-order-id': order.orderId,
          'data-status': order.status,
          class: order.orderId === currentOrderId ? 'current' : null,
        },
        h(
          'a',
          { href: orderPath(order.orderId), 'data-order-link': order.orderId },
          h('span', { class: 'order-id mono' }, shortId(order.orderId)),
          badge(order.status),
          h('span', { class: 'order-who' }, order.customerEmail ?? 'no email'),
          h('span', { class: 'order-ago' }, ago(order.placedAt)),
        ),
      ),
    ),
  );
}
