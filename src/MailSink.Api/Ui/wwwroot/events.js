// Live arrivals from GET api/events (server-sent events), read with fetch() rather than EventSource:
// fetch can send the API key in the Authorization header, so the key never goes into a URL. The
// stream reconnects with a growing pause; every (re)connection calls onOpen, which reloads what is on
// screen, so nothing that arrived while disconnected is missed.
import { request } from './api.js';

export function listen({ onOpen, onMessage, onOverflow, onState }) {
  let pause = 500;
  const run = async () => {
    for (;;) {
      onState('connecting');
      try {
        const response = await request('api/events');
        if (!response.ok || !response.body) throw new Error(`HTTP ${response.status}`);
        onState('live');
        pause = 500;
        onOpen();
        await read(response.body, { onMessage, onOverflow });
      } catch {
        // fall through to the pause and reconnect
      }
      onState('offline');
      await new Promise(resolve => setTimeout(resolve, pause));
      pause = Math.min(pause * 2, 10_000);
    }
  };
  run();
}

async function read(body, { onMessage, onOverflow }) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value.replace(/\r\n?/g, '\n');
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      dispatch(block, { onMessage, onOverflow });
    }
  }
}

function dispatch(block, { onMessage, onOverflow }) {
  let type = 'message';
  const data = [];
  for (const line of block.split('\n')) {
    if (line.startsWith(':')) continue; // comment: connected, heartbeat
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'event') type = value;
    else if (field === 'data') data.push(value);
  }
  if (data.length === 0) return;
  const payload = JSON.parse(data.join('\n'));
  if (type === 'message') onMessage(payload);
  else if (type === 'overflow') onOverflow(payload);
}
