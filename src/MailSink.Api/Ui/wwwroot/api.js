// The API client: every call goes to /api with the API key, when there is one, as HTTP Basic with the
// key as the user name. The key is asked for once, on the first 401, and kept in localStorage.
// credentials: 'omit' keeps the browser's own Basic-auth prompt away and sends no cookies.
import { h, toast } from './dom.js';

const STORAGE_KEY = 'mailsink.apiKey';

export const apiKey = {
  get() {
    try { return localStorage.getItem(STORAGE_KEY) || ''; } catch { return ''; }
  },
  set(value) { localStorage.setItem(STORAGE_KEY, value); },
  clear() { localStorage.removeItem(STORAGE_KEY); },
};

function authorization(key) {
  if (!key) return {};
  let binary = '';
  for (const byte of new TextEncoder().encode(`${key}:`)) binary += String.fromCharCode(byte);
  return { Authorization: `Basic ${btoa(binary)}` };
}

let pendingKey = null;

/** Shows the key dialog (once, however many requests were refused) and resolves when a key is saved. */
function askForKey(refused) {
  pendingKey ??= new Promise(resolve => {
    const dialog = document.getElementById('key-dialog');
    const form = document.getElementById('key-form');
    const input = document.getElementById('key-input');
    const reason = document.getElementById('key-reason');
    reason.classList.toggle('refused', refused);
    reason.textContent = refused
      ? 'The server refused that API key. Enter the current one.'
      : 'This MailSink requires its API key (MailSink:Api:ApiKey).';
    input.value = '';
    form.onsubmit = event => {
      event.preventDefault();
      const key = input.value.trim();
      if (!key) return;
      apiKey.set(key);
      dialog.close();
      pendingKey = null;
      document.dispatchEvent(new CustomEvent('mailsink:key'));
      resolve();
    };
    dialog.oncancel = event => event.preventDefault();
    dialog.showModal();
    input.focus();
  });
  return pendingKey;
}

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/** fetch() for /api: adds the key, and on a 401 asks for it and tries again. */
export async function request(path, init = {}) {
  for (;;) {
    const key = apiKey.get();
    const response = await fetch(path, {
      ...init,
      credentials: 'omit',
      cache: 'no-store',
      headers: { ...authorization(key), ...(init.headers || {}) },
    });
    if (response.status !== 401) return response;
    // Another request may have got a new key while this one was out: then just try again with it.
    if (apiKey.get() === key) await askForKey(key !== '');
  }
}

async function failure(response) {
  let detail = `${response.status} ${response.statusText}`;
  try {
    const body = await response.json();
    detail = body.errors?.[0]?.detail?.[0]?.description || detail;
  } catch { /* not JSON */ }
  return new ApiError(response.status, detail);
}

export async function getJson(path) {
  const response = await request(path);
  if (!response.ok) throw await failure(response);
  return response.json();
}

export async function send(method, path, body) {
  const init = { method };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers = { 'Content-Type': 'application/json' };
  }
  const response = await request(path, init);
  if (!response.ok) throw await failure(response);
  return response.status === 204 ? null : response.json();
}

/** Bytes of a file endpoint (raw message, attachment). */
export async function getBlob(path) {
  const response = await request(path);
  if (!response.ok) throw await failure(response);
  return response.blob();
}

/**
 * A download link. Without a key it is a plain link the browser downloads itself; with a key, a plain
 * link would get a 401 (and the browser's password prompt), so the click fetches with the key instead.
 */
export function downloadLink(path, fileName, label, extra = {}) {
  return h('a', {
    ...extra,
    href: path,
    download: fileName,
    onclick: event => {
      if (!apiKey.get()) return;
      event.preventDefault();
      getBlob(path).then(blob => {
        const url = URL.createObjectURL(blob);
        const link = h('a', { href: url, download: fileName });
        document.body.append(link);
        link.click();
        link.remove();
        setTimeout(() => URL.revokeObjectURL(url), 60_000);
      }, error => toast(`Download failed: ${error.message}`));
    },
  }, label);
}
