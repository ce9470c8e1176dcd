// The page: inbox list, message list of one inbox, message view; routed by the URL hash
// (#/inbox/<id>/<message>/<tab>) so that the back button and links work. New mail arrives through
// api/events and is put on screen as it comes.
import { apiKey, getJson, send } from './api.js';
import { copyText, formatFull, formatWhen, h, shortAddress, toast } from './dom.js';
import { listen } from './events.js';
import { clearMessage, currentMessageId, selectTab, showMessage, TABS } from './message.js';

const PAGE_SIZE = 50;
const SEARCH_PAGE_SIZE = 200;
const ROOT_DOMAIN = document.querySelector('meta[name="mailsink-root-domain"]')?.content || 'localhost';
const $ = id => document.getElementById(id);

const state = {
  inboxes: [],        // [{ id, name, messages }]
  inbox: null,        // the open inbox id
  page: 0,
  items: [],          // the loaded page, newest first
  searched: null,     // server search results for the filter, or null
  filter: '',
  loading: null,      // arrivals seen while the page was loading, merged in when it lands
  loadSeq: 0,
  inboxSeq: 0,        // the latest inbox-list request; older answers are dropped
  inboxArrivals: 0,   // arrivals seen while that request was in flight
  fresh: new Set(),   // ids to flash once
  bumped: new Set(),  // inbox ids whose count just went up
};

// ---- routing ----

function parseRoute() {
  const parts = location.hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
  if (parts[0] !== 'inbox' || !parts[1]) return { inbox: null, messageId: null, tab: null };
  return { inbox: parts[1], messageId: parts[2] || null, tab: TABS.includes(parts[3]) ? parts[3] : null };
}

const hrefFor = (inbox, messageId, tab) =>
  `#/inbox/${[inbox, messageId, tab].filter(Boolean).map(encodeURIComponent).join('/')}`;

async function route() {
  const { inbox, messageId, tab } = parseRoute();
  const layout = $('layout');
  layout.dataset.depth = messageId ? 'message' : inbox ? 'inbox' : 'inboxes';
  document.title = inbox ? `${inbox} · MailSink` : 'MailSink';

  if (inbox !== state.inbox) {
    state.inbox = inbox;
    state.page = 0;
    state.filter = '';
    state.searched = null;
    state.items = [];
    $('filter').value = '';
    renderInboxes();
    renderInboxView();
    if (inbox) loadMessages();
  }

  const pane = $('message-pane');
  if (!inbox) {
    pane.hidden = true;
    clearMessage(pane, '');
  } else if (!messageId) {
    pane.hidden = false;
    clearMessage(pane, 'Select a message to read it.');
  } else if (messageId !== currentMessageId()) {
    await showMessage(pane, messageId, tab, {
      onTab: name => history.replaceState(null, '', hrefFor(inbox, messageId, name)),
      onDeleted: removed,
    });
  } else if (tab) {
    selectTab(tab);
  }
  markSelectedMessage();
}

// ---- inboxes ----

// The answer to api/servers may have been read before a message whose arrival is already on screen
// was stored: applying it would drop that inbox or its count. Such an answer is not applied; the list
// is asked for again, and the arrivals keep the screen right meanwhile.
async function loadInboxes() {
  const seq = ++state.inboxSeq;
  state.inboxArrivals = 0;
  try {
    const { items } = await getJson('api/servers');
    if (seq !== state.inboxSeq) return;
    if (state.inboxArrivals > 0) {
      loadInboxes();
      return;
    }
    state.inboxes = items.map(({ id, name, messages, lastReceived }) => ({ id, name, messages, lastReceived }));
  } catch (error) {
    if (seq !== state.inboxSeq) return;
    toast(`Could not load inboxes: ${error.message}`);
  }
  renderInboxes();
}

function renderInboxes() {
  const list = $('inbox-list');
  const sorted = [...state.inboxes].sort((a, b) => a.id.localeCompare(b.id));
  list.replaceChildren(...sorted.map(inbox => h('li', {},
    h('a', {
      href: hrefFor(inbox.id),
      dataset: { inbox: inbox.id },
      'aria-current': inbox.id === state.inbox ? 'page' : null,
      title: inbox.name !== inbox.id ? `${inbox.name} (${inbox.id})` : inbox.id,
    },
    h('span', { class: 'name' }, inbox.name || inbox.id),
    h('span', { class: state.bumped.has(inbox.id) ? 'count bump' : 'count' }, inbox.messages)))));
  state.bumped.clear();
  $('no-inboxes').hidden = state.inboxes.length > 0;
}

// An instant as the API writes it (ISO 8601 in UTC, up to seven decimals, trailing zeros left out) as a
// string that sorts in time order to the tick, which Date.parse (milliseconds) does not.
function instantKey(iso) {
  const match = /^([^.+Z]*)(?:\.(\d+))?/.exec(iso);
  return `${match[1]}.${(match[2] ?? '').padEnd(7, '0')}`;
}

function inboxRecord(id) {
  let inbox = state.inboxes.find(x => x.id === id);
  if (!inbox) {
    inbox = { id, name: id, messages: 0, lastReceived: null };
    state.inboxes.push(inbox);
  }
  return inbox;
}

// ---- message list ----

function renderInboxView() {
  $('welcome').hidden = !!state.inbox;
  $('inbox-view').hidden = !state.inbox;
  if (!state.inbox) return;
  $('inbox-title').textContent = state.inboxes.find(x => x.id === state.inbox)?.name ?? state.inbox;
  $('inbox-address').textContent = addressFor(state.inbox);
  renderMessages();
}

const addressFor = inbox => `anything@${inbox}.${ROOT_DOMAIN}`;

async function loadMessages() {
  const seq = ++state.loadSeq;
  const inbox = state.inbox;
  state.loading = [];
  try {
    const { items } = await getJson(`api/messages?server=${encodeURIComponent(inbox)}&page=${state.page}&itemsPerPage=${PAGE_SIZE}`);
    if (seq !== state.loadSeq) return;
    const arrived = state.page === 0 ? state.loading.filter(s => !items.some(m => m.id === s.id)) : [];
    state.items = [...arrived.reverse(), ...items].slice(0, PAGE_SIZE);
  } catch (error) {
    if (seq !== state.loadSeq) return;
    state.items = [];
    toast(`Could not load messages: ${error.message}`);
  } finally {
    if (seq === state.loadSeq) state.loading = null;
  }
  renderMessages();
  if (state.filter) search();
}

function matches(summary, needle) {
  const fields = [summary.subject || '', ...[...summary.from, ...summary.to, ...summary.cc].flatMap(a => [a.name, a.email])];
  return fields.some(field => field && field.toLowerCase().includes(needle));
}

/** What the list shows: the loaded page, or with a filter, its matches plus the server's search results. */
function visibleItems() {
  if (!state.filter) return state.items;
  const needle = state.filter.toLowerCase();
  const byId = new Map();
  for (const summary of [...state.items.filter(s => matches(s, needle)), ...(state.searched || [])]) byId.set(summary.id, summary);
  return [...byId.values()].sort((a, b) => b.received.localeCompare(a.received));
}

function renderMessages() {
  if (!state.inbox) return;
  const items = visibleItems();
  const selected = parseRoute().messageId;
  $('message-list').replaceChildren(...items.map(summary => h('li', {},
    h('a', {
      href: hrefFor(state.inbox, summary.id),
      class: state.fresh.has(summary.id) ? 'fresh' : null,
      dataset: { id: summary.id },
      'aria-current': summary.id === selected ? 'page' : null,
    },
    h('span', { class: 'from' }, summary.from.length ? summary.from.map(shortAddress).join(', ') : '(no sender)'),
    h('time', { datetime: summary.received, title: formatFull(summary.received) }, formatWhen(summary.received)),
    h('span', { class: 'subject' }, summary.subject || '(no subject)',
      summary.attachments > 0 ? h('span', { class: 'clip attachment-mark', title: `${summary.attachments} attachment(s)`, 'aria-label': `${summary.attachments} attachment(s)` }, summary.attachments) : null),
    h('span', { class: 'meta' }, `to ${recipients(summary).map(a => a.email).join(', ') || '(no recipient)'}`, summary.summary ? ` — ${summary.summary}` : '')))));
  state.fresh.clear();

  const empty = $('no-messages');
  empty.hidden = items.length > 0;
  empty.textContent = state.filter ? `Nothing matches “${state.filter}”.` : `No messages. Send one to ${addressFor(state.inbox)}.`;

  const pager = $('newer').parentElement;
  pager.hidden = !!state.filter || (state.page === 0 && state.items.length < PAGE_SIZE);
  $('newer').disabled = state.page === 0;
  $('older').disabled = state.items.length < PAGE_SIZE;
  $('page-info').textContent = state.items.length
    ? `${state.page * PAGE_SIZE + 1}–${state.page * PAGE_SIZE + state.items.length}`
    : `page ${state.page + 1}`;
}

function markSelectedMessage() {
  const selected = parseRoute().messageId;
  for (const link of $('message-list').querySelectorAll('a[data-id]')) {
    if (link.dataset.id === selected) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
}

let searchTimer = 0;

async function search() {
  const needle = state.filter;
  const inbox = state.inbox;
  if (!needle || !inbox) return;
  try {
    // Subject is a substring match on the server, sentFrom and sentTo whole addresses; the loaded page
    // is filtered here for parts of names and addresses.
    const { items } = await send('POST', `api/messages/search?server=${encodeURIComponent(inbox)}&itemsPerPage=${SEARCH_PAGE_SIZE}`,
      { subject: needle, sentFrom: needle, sentTo: needle, match: 'ANY' });
    if (state.filter !== needle || state.inbox !== inbox) return;
    state.searched = items;
    renderMessages();
  } catch (error) {
    toast(`Search failed: ${error.message}`);
  }
}

function onFilterInput() {
  state.filter = $('filter').value.trim();
  state.searched = null;
  renderMessages();
  clearTimeout(searchTimer);
  if (state.filter) searchTimer = setTimeout(search, 200);
}

// ---- changes ----

function onArrival(summary) {
  state.inboxArrivals += 1;
  const inbox = inboxRecord(summary.server);
  // An inbox list read after this message was stored already counts it: its last receive time is this
  // message's or later (receive times follow commit order). The stream can bring the arrival after that.
  if (!inbox.lastReceived || instantKey(summary.received) > instantKey(inbox.lastReceived)) {
    inbox.messages += 1;
    inbox.lastReceived = summary.received;
    state.bumped.add(summary.server);
    renderInboxes();
  }
  if (summary.server !== state.inbox || state.page !== 0) return;
  if (state.loading) state.loading.push(summary);
  if (state.items.some(m => m.id === summary.id)) return;
  // Newest first by the time it was received: with several nodes, one's arrival can be announced a moment
  // after a later one of another's.
  state.items = [summary, ...state.items]
    .sort((a, b) => Date.parse(b.received) - Date.parse(a.received))
    .slice(0, PAGE_SIZE);
  state.fresh.add(summary.id);
  renderMessages();
}

function refresh() {
  loadInboxes();
  if (state.inbox) loadMessages();
}

function removed(message) {
  state.items = state.items.filter(m => m.id !== message.id);
  if (state.searched) state.searched = state.searched.filter(m => m.id !== message.id);
  const inbox = state.inboxes.find(x => x.id === message.server);
  if (inbox) inbox.messages = Math.max(0, inbox.messages - 1);
  renderInboxes();
  renderMessages();
  location.hash = hrefFor(message.server);
}

async function emptyInbox() {
  const inbox = state.inbox;
  const count = state.inboxes.find(x => x.id === inbox)?.messages ?? 0;
  if (!confirm(`Delete all ${count} message(s) in inbox ${inbox}?`)) return;
  try {
    await send('DELETE', `api/messages?server=${encodeURIComponent(inbox)}`);
  } catch (error) {
    toast(`Could not empty the inbox: ${error.message}`);
    return;
  }
  state.items = [];
  state.searched = null;
  state.page = 0;
  const emptied = state.inboxes.find(x => x.id === inbox);
  if (emptied) emptied.messages = 0;
  renderInboxes();
  renderMessages();
  toast(`Inbox ${inbox} emptied`);
  if (parseRoute().messageId) location.hash = hrefFor(inbox);
}

function page(delta) {
  state.page = Math.max(0, state.page + delta);
  state.items = [];
  loadMessages();
}

function setLive(status) {
  const live = $('live');
  live.dataset.state = status;
  live.textContent = status;
}

// ---- start ----

for (const el of document.querySelectorAll('.root-domain')) el.textContent = ROOT_DOMAIN;
$('filter').addEventListener('input', onFilterInput);
$('copy-address').addEventListener('click', () => copyText(addressFor(state.inbox)));
$('empty-inbox').addEventListener('click', emptyInbox);
$('newer').addEventListener('click', () => page(-1));
$('older').addEventListener('click', () => page(1));
$('forget-key').hidden = !apiKey.get();
$('forget-key').addEventListener('click', () => { apiKey.clear(); location.reload(); });
document.addEventListener('mailsink:key', () => { $('forget-key').hidden = false; });
document.addEventListener('keydown', event => {
  if (event.key === '/' && document.activeElement?.tagName !== 'INPUT' && state.inbox) {
    event.preventDefault();
    $('filter').focus();
  }
});
window.addEventListener('hashchange', route);

renderInboxView();
route();
loadInboxes();
listen({
  onOpen: refresh,
  onMessage: onArrival,
  onOverflow: refresh,
  onState: setLive,
});

// Who a message went to, for the list: its To, else its Cc, else its Bcc, which holds the envelope
// recipients that neither names (a message typed at telnet often has no To header at all).
function recipients(summary) {
  if (summary.to.length) return summary.to;
  return summary.cc.length ? summary.cc : summary.bcc;
}
