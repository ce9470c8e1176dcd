// Drives the official `mailosaur` npm client (pinned in package.json) against a running MailSink and
// asserts real values at every step. MailosaurNodeClientTests starts MailSink with HTTPS on port 443 of a
// loopback address (the client always connects to port 443, whatever the base URL says) and passes:
//   MAILSINK_BASE_URL   e.g. https://127.77.3.4/  (trusted through NODE_EXTRA_CA_CERTS)
//   MAILSINK_API_KEY    the key MailSink requires
//   MAILSINK_SMTP_HOST, MAILSINK_SMTP_PORT   a plain SMTP listener
//   MAILSINK_DOMAIN     the routing root domain: mail to anything@<serverId>.<domain> lands in that server
// Prints one line per step and exits non-zero on the first failure.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import net from 'node:net';
import MailosaurClient from 'mailosaur';

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};
const baseUrl = env('MAILSINK_BASE_URL');
const apiKey = env('MAILSINK_API_KEY');
const smtpHost = env('MAILSINK_SMTP_HOST');
const smtpPort = Number(env('MAILSINK_SMTP_PORT'));
const domain = env('MAILSINK_DOMAIN');

const started = Date.now();
const log = (line) => console.log(`[${String(Date.now() - started).padStart(5)} ms] ${line}`);

async function step(name, body) {
  const t0 = Date.now();
  try {
    const result = await body();
    log(`ok   ${name} (${Date.now() - t0} ms)`);
    return result;
  } catch (error) {
    log(`FAIL ${name}`);
    console.error(error);
    process.exit(1);
  }
}

// Asserts that a promise rejects with a MailosaurError carrying exactly these fields.
async function rejectsWith(promise, { message, errorType, httpStatusCode }) {
  const error = await promise.then(
    (value) => assert.fail(`expected a ${errorType} error, got ${JSON.stringify(value)}`),
    (e) => e);
  assert.equal(error.constructor.name, 'MailosaurError', `not a MailosaurError: ${error.stack}`);
  assert.equal(error.message, message);
  assert.equal(error.errorType, errorType);
  assert.equal(error.httpStatusCode, httpStatusCode);
  return error;
}

// ---------------------------------------------------------------------------------------------------
// A bare SMTP client over a raw socket: literal commands, whole replies, a deadline on the session.

function replyReader(socket) {
  let buffered = '';
  const lines = [];
  const waiters = [];
  let failure = null;
  const settle = () => {
    while (waiters.length > 0 && (lines.length > 0 || failure)) {
      const waiter = waiters.shift();
      if (lines.length > 0) waiter.resolve(lines.shift());
      else waiter.reject(failure);
    }
  };
  socket.on('data', (chunk) => {
    buffered += chunk.toString('latin1');
    let lf;
    while ((lf = buffered.indexOf('\n')) >= 0) {
      lines.push(buffered.slice(0, lf).replace(/\r$/, ''));
      buffered = buffered.slice(lf + 1);
    }
    settle();
  });
  socket.on('error', (e) => { failure ??= e; settle(); });
  socket.on('close', () => { failure ??= new Error('SMTP: the server closed the connection'); settle(); });
  const nextLine = () => new Promise((resolve, reject) => { waiters.push({ resolve, reject }); settle(); });
  return async () => {
    const reply = [];
    for (;;) {
      const line = await nextLine();
      reply.push(line);
      if (line.length < 4 || line[3] !== '-') return reply.join('\n');
    }
  };
}

/** Sends one message; returns the id from MailSink's "250 OK message stored as <id> in inbox <server>". */
async function smtpSend({ ehlo, mailFrom, rcptTo, message }) {
  const socket = net.connect(smtpPort, smtpHost);
  socket.setTimeout(10_000, () => socket.destroy(new Error('SMTP: no reply within 10 s')));
  const readReply = replyReader(socket);
  const expect = async (command, code) => {
    if (command !== null) socket.write(`${command}\r\n`);
    const reply = await readReply();
    assert.ok(reply.startsWith(`${code} `) || reply.startsWith(`${code}-`),
      `SMTP ${command ?? '(greeting)'}: expected ${code}, got: ${reply}`);
    return reply;
  };
  try {
    await expect(null, 220);
    await expect(`EHLO ${ehlo}`, 250);
    await expect(`MAIL FROM:<${mailFrom}>`, 250);
    for (const recipient of rcptTo) await expect(`RCPT TO:<${recipient}>`, 250);
    await expect('DATA', 354);
    const stuffed = message.replace(/^\./gm, '..');
    const stored = await expect(`${stuffed}${stuffed.endsWith('\r\n') ? '' : '\r\n'}.`, 250);
    await expect('QUIT', 221);
    const id = /stored as ([0-9a-f-]{36}) in inbox (\S+)/.exec(stored);
    assert.ok(id, `not a "stored as" reply: ${stored}`);
    return { id: id[1], inbox: id[2] };
  } finally {
    socket.destroy();
  }
}

const crlf = (lines) => lines.join('\r\n') + '\r\n';
const base64Lines = (bytes) => bytes.toString('base64').match(/.{1,76}/g).join('\r\n');
const plain = (value) => JSON.parse(JSON.stringify(value)); // the client's model objects as plain data
const addresses = (list) => list.map(({ name, email }) => ({ name, email }));

// ---------------------------------------------------------------------------------------------------

const installed = JSON.parse(await readFile(new URL('./node_modules/mailosaur/package.json', import.meta.url), 'utf8'));
log(`mailosaur ${installed.version} on node ${process.version}, base URL ${baseUrl}, SMTP ${smtpHost}:${smtpPort}`);
assert.equal(installed.version, '11.1.1');

const client = new MailosaurClient(apiKey, baseUrl);

// Every search the client makes, as seen by the client: status, items and the x-ms-delay pacing header.
const searches = [];
const searchListeners = [];
const realPost = client.request.post.bind(client.request);
client.request.post = (url, options, callback) => realPost(url, options, (err, response, body) => {
  if (url === 'api/messages/search' && response) {
    searches.push({ status: response.statusCode, items: body?.items?.length, delay: response.headers['x-ms-delay'] });
    searchListeners.splice(0).forEach((listener) => listener());
  }
  callback(err, response, body);
});
const nextSearchAnswered = () => new Promise((resolve) => searchListeners.push(resolve));

const tag = randomUUID().slice(0, 8);

const server = await step('servers.create({name}) makes a server with an 8-character id', async () => {
  const created = await client.servers.create({ name: `node flow ${tag}` });
  assert.match(created.id, /^[a-z0-9]{8}$/);
  assert.equal(created.name, `node flow ${tag}`);
  assert.deepEqual(created.users, []);
  assert.equal(created.messages, 0);
  return created;
});

await step('servers.get returns the same server', async () => {
  assert.deepEqual(plain(await client.servers.get(server.id)), plain(server));
});

await step('servers.update renames it (the client sends the whole server object)', async () => {
  const renamed = await client.servers.update(server.id, { ...server, name: `renamed ${tag}` });
  assert.deepEqual(plain(renamed), { ...plain(server), name: `renamed ${tag}` });
  assert.equal((await client.servers.get(server.id)).name, `renamed ${tag}`);
});

await step('servers.getPassword gives a real password (the SMTP user is the server id)', async () => {
  const password = await client.servers.getPassword(server.id);
  assert.match(password, /^[a-z0-9]{8,}$/);
  assert.equal(await client.servers.getPassword(server.id), password, 'the password is stable');
});

const firstAddress = `first.${tag}@${server.id}.${domain}`;
const firstSubject = `First message ${tag}`;
const firstRaw = crlf([
  'From: "Node Sender" <sender@example.com>',
  `To: "First Recipient" <${firstAddress}>`,
  `Subject: ${firstSubject}`,
  'Date: Tue, 02 Jan 2024 03:04:05 +0000',
  `Message-ID: <first.${tag}@node-client-flow.test>`,
  'MIME-Version: 1.0',
  'Content-Type: text/plain; charset=utf-8',
  '',
  'Hello from the mailosaur node client flow.',
  'Open https://example.com/first?step=1 to continue.',
  '.A line that starts with a dot.',
]);

const first = await step('messages.get waits (polling search, paced by x-ms-delay) for mail sent after it started', async () => {
  const pending = client.messages.get(server.id, { sentTo: firstAddress }, { timeout: 20_000 });
  pending.catch(() => {}); // awaited below; never an unhandled rejection meanwhile
  await nextSearchAnswered();
  assert.equal(searches.at(-1).items, 0, 'the first search must find nothing: the mail is not sent yet');
  const stored = await smtpSend({
    ehlo: 'first.node-client-flow.test',
    mailFrom: 'bounces@example.com',
    rcptTo: [firstAddress],
    message: firstRaw,
  });
  assert.equal(stored.inbox, server.id);
  const message = await pending;
  assert.equal(message.id, stored.id);
  assert.ok(searches.length >= 2, `the client should have polled, searched ${searches.length} time(s)`);
  assert.ok(searches.every((s) => s.status === 200));
  const delays = searches[0].delay;
  assert.match(delays ?? '', /^\d+(,\d+)*$/, 'x-ms-delay: comma-separated milliseconds, no spaces');
  assert.ok(Number(delays.split(',')[0]) < 1000, `x-ms-delay ${delays} should poll faster than the 1000 ms default`);
  log(`     searched ${searches.length} times; x-ms-delay: ${delays}`);
  return message;
});

await step('the message has its fields: addresses, subject, text, links, metadata', async () => {
  assert.equal(first.type, 'Email');
  assert.equal(first.server, server.id);
  assert.equal(first.subject, firstSubject);
  assert.ok(first.received instanceof Date && Math.abs(first.received - Date.now()) < 60_000, `received ${first.received}`);
  assert.deepEqual(addresses(first.from), [{ name: 'Node Sender', email: 'sender@example.com' }]);
  assert.deepEqual(addresses(first.to), [{ name: 'First Recipient', email: firstAddress }]);
  assert.deepEqual(first.cc, []);
  assert.deepEqual(first.bcc, []);
  assert.match(first.text.body, /^Hello from the mailosaur node client flow\.\r?\nOpen https:\/\/example\.com\/first\?step=1 to continue\.\r?\n\.A line that starts with a dot\./);
  assert.deepEqual(plain(first.text.links), [{ href: 'https://example.com/first?step=1', text: 'https://example.com/first?step=1' }]);
  assert.deepEqual(first.text.codes, []);
  assert.equal(first.html.body ?? null, null);
  assert.deepEqual(first.html.links, []);
  assert.deepEqual(first.attachments, []);
  assert.equal(first.metadata.ehlo, 'first.node-client-flow.test');
  assert.equal(first.metadata.mailFrom, 'bounces@example.com');
  assert.deepEqual(addresses(first.metadata.rcptTo), [{ name: '', email: firstAddress }]);
  // Every header of the message, in order, Content-* included.
  assert.deepEqual(plain(first.metadata.headers).map((h) => h.field),
    ['From', 'To', 'Subject', 'Date', 'Message-ID', 'MIME-Version', 'Content-Type']);
  assert.deepEqual(plain(first.metadata.headers.find((h) => h.field === 'Subject')), { field: 'Subject', value: firstSubject });
});

await step('messages.getById returns the same message', async () => {
  assert.deepEqual(plain(await client.messages.getById(first.id)), plain(first));
});

await step('files.getEmail returns the raw message byte for byte', async () => {
  const raw = await client.files.getEmail(first.id);
  assert.ok(Buffer.isBuffer(raw));
  assert.ok(raw.includes(`Subject: ${firstSubject}\r\n`));
  assert.ok(raw.equals(Buffer.from(firstRaw, 'utf8')), `raw differs:\n${raw.toString('utf8')}`);
});

const secondAddress = `second.${tag}@${server.id}.${domain}`;
const copyAddress = `copy.${tag}@${server.id}.${domain}`;
const secondSubject = `Second message ${tag} with attachment`;
const payload = Buffer.from(Array.from({ length: 1000 }, (_, i) => (i * 37 + 11) % 256));
const secondRaw = crlf([
  'From: Node Sender <sender@example.com>',
  `To: ${secondAddress}`,
  `Cc: Copy <${copyAddress}>`,
  `Subject: ${secondSubject}`,
  'Date: Tue, 02 Jan 2024 03:04:06 +0000',
  `Message-ID: <second.${tag}@node-client-flow.test>`,
  'MIME-Version: 1.0',
  'Content-Type: multipart/mixed; boundary="outer"',
  '',
  '--outer',
  'Content-Type: multipart/alternative; boundary="inner"',
  '',
  '--inner',
  'Content-Type: text/plain; charset=utf-8',
  '',
  'Your verification code is 123456.',
  'Verify: https://example.com/verify?token=abc123',
  '--inner',
  'Content-Type: text/html; charset=utf-8',
  '',
  '<html><body><p>Your verification code is <b>123456</b>.</p>',
  '<p><a href="https://example.com/verify?token=abc123">Verify your account</a>',
  '<a href="https://example.com/help"><img src="https://example.com/help.png" alt="Help"></a></p>',
  '</body></html>',
  '--inner--',
  '',
  '--outer',
  'Content-Type: application/octet-stream; name="payload.bin"',
  'Content-Disposition: attachment; filename="payload.bin"',
  'Content-Transfer-Encoding: base64',
  '',
  base64Lines(payload),
  '--outer--',
]);

const second = await step('a multipart message with HTML, a code and an attachment arrives (messages.get by subject)', async () => {
  const stored = await smtpSend({
    ehlo: 'second.node-client-flow.test',
    mailFrom: 'sender@example.com',
    rcptTo: [secondAddress, copyAddress],
    message: secondRaw,
  });
  const message = await client.messages.get(server.id, { subject: secondSubject });
  assert.equal(message.id, stored.id);
  return message;
});

await step('html.links, html.codes, text.links, text.codes and attachments are analysed', async () => {
  assert.deepEqual(addresses(second.to), [{ name: '', email: secondAddress }]);
  assert.deepEqual(addresses(second.cc), [{ name: 'Copy', email: copyAddress }]);
  assert.deepEqual(plain(second.html.links), [
    { href: 'https://example.com/verify?token=abc123', text: 'Verify your account' },
    { href: 'https://example.com/help', text: null },
  ]);
  assert.deepEqual(plain(second.html.images), [{ src: 'https://example.com/help.png', alt: 'Help' }]);
  assert.deepEqual(plain(second.html.codes), [{ value: '123456' }]);
  assert.match(second.html.body, /<b>123456<\/b>/);
  assert.deepEqual(plain(second.text.links), [{ href: 'https://example.com/verify?token=abc123', text: 'https://example.com/verify?token=abc123' }]);
  assert.deepEqual(plain(second.text.codes), [{ value: '123456' }]);
  assert.equal(second.attachments.length, 1);
  const [attachment] = second.attachments;
  assert.equal(attachment.fileName, 'payload.bin');
  assert.equal(attachment.contentType, 'application/octet-stream');
  assert.equal(attachment.length, payload.length);
  assert.equal(attachment.url, `${baseUrl}api/files/attachments/${attachment.id}`);
  assert.equal(second.metadata.ehlo, 'second.node-client-flow.test');
  assert.deepEqual(addresses(second.metadata.rcptTo), [{ name: '', email: secondAddress }, { name: '', email: copyAddress }]);
});

await step('files.getAttachment returns the decoded attachment bytes', async () => {
  const bytes = await client.files.getAttachment(second.attachments[0].id);
  assert.ok(Buffer.isBuffer(bytes));
  assert.ok(bytes.equals(payload), `got ${bytes.length} bytes, expected ${payload.length}`);
});

await step('messages.list gives summaries, newest first, attachment counts', async () => {
  const { items } = await client.messages.list(server.id);
  assert.deepEqual(items.map((m) => m.id), [second.id, first.id]);
  assert.deepEqual(items.map((m) => m.attachments), [1, 0]);
  assert.deepEqual(items.map((m) => m.subject), [secondSubject, firstSubject]);
  assert.ok(items.every((m) => m.server === server.id && m.type === 'Email'));
  assert.match(items[0].summary, /^Your verification code is 123456\./);
  assert.match(items[1].summary, /^Hello from the mailosaur node client flow\./);
  assert.deepEqual(addresses(items[1].to), [{ name: 'First Recipient', email: firstAddress }]);
  const paged = await client.messages.list(server.id, { page: 1, itemsPerPage: 1 });
  assert.deepEqual(paged.items.map((m) => m.id), [first.id]);
  // The client sends a Date as its raw ISO string (not URL-encoded), and dir as given.
  const after = await client.messages.list(server.id, { receivedAfter: new Date(first.received.getTime() + 1), dir: 'Received' });
  assert.deepEqual(after.items.map((m) => m.id), [second.id]);
});

await step('servers.list contains the server with its message count', async () => {
  const { items } = await client.servers.list();
  const listed = items.find((s) => s.id === server.id);
  assert.ok(listed, `server ${server.id} missing from ${JSON.stringify(items)}`);
  assert.deepEqual(plain(listed), { id: server.id, name: `renamed ${tag}`, users: [], messages: 2 });
});

await step('messages.search with match ALL needs every criterion', async () => {
  const both = await client.messages.search(server.id, { sentTo: firstAddress, subject: 'FIRST MESSAGE' });
  assert.deepEqual(both.items.map((m) => m.id), [first.id]);
  const mixed = await client.messages.search(server.id, { sentTo: firstAddress, subject: secondSubject, match: 'ALL' });
  assert.deepEqual(mixed.items, []);
  const cc = await client.messages.search(server.id, { sentTo: copyAddress, body: 'verification code' });
  assert.deepEqual(cc.items.map((m) => m.id), [second.id]);
});

await step('messages.search with match ANY needs one criterion', async () => {
  const any = await client.messages.search(server.id, { sentTo: firstAddress, subject: secondSubject, match: 'ANY' });
  assert.deepEqual(any.items.map((m) => m.id), [second.id, first.id]);
});

await step('messages.search that finds nothing: errorOnTimeout false gives an empty result after polling', async () => {
  const before = searches.length;
  const none = await client.messages.search(server.id, { subject: `nothing ${tag}` }, { timeout: 600, errorOnTimeout: false });
  assert.deepEqual(none.items, []);
  assert.ok(searches.length - before >= 2, `polled ${searches.length - before} time(s) in 600 ms; x-ms-delay should allow several`);
});

await step('messages.search that finds nothing: a search_timeout error by default', async () => {
  const criteria = { subject: `nothing ${tag}` };
  await rejectsWith(client.messages.search(server.id, criteria, { timeout: 300 }), {
    message: 'No matching messages found in time. By default, only messages received in the last hour are checked '
      + `(use receivedAfter to override this). The search criteria used for this query was [${JSON.stringify(criteria)}] which timed out after 300ms`,
    errorType: 'search_timeout',
    httpStatusCode: null,
  });
});

await step('messages.del deletes; getById then fails with 404', async () => {
  await client.messages.del(first.id);
  const error = await rejectsWith(client.messages.getById(first.id),
    { message: 'Not found, check input parameters.', errorType: 'invalid_request', httpStatusCode: 404 });
  log(`     404 body: ${error.httpResponseBody}`);
  await rejectsWith(client.messages.del(first.id),
    { message: 'Not found, check input parameters.', errorType: 'invalid_request', httpStatusCode: 404 });
  assert.deepEqual((await client.messages.list(server.id)).items.map((m) => m.id), [second.id]);
});

await step('messages.deleteAll empties the server', async () => {
  await client.messages.deleteAll(server.id);
  assert.deepEqual((await client.messages.list(server.id)).items, []);
  assert.equal((await client.servers.get(server.id)).messages, 0);
});

// ---------------------------------------------------------------------------------------------------
// Calls that make mail, devices, usage and honest refusals, each through the client's own method.

const logo = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');
const created = await step('messages.create stores a message with attachments in the server (send: false)', async () => {
  const message = await client.messages.create(server.id, {
    to: `created.${tag}@${server.id}.${domain}`,
    subject: `Created ${tag}`,
    text: `Created by the node client. Code 424242.`,
    html: `<p>Created by the node client. <img src="cid:logo.${tag}"></p>`,
    attachments: [
      { fileName: 'payload.bin', contentType: 'application/octet-stream', content: payload.toString('base64') },
      { fileName: 'logo.png', contentType: 'image/png', content: logo.toString('base64'), contentId: `logo.${tag}` },
    ],
    send: false,
  });
  assert.equal(message.server, server.id);
  assert.equal(message.subject, `Created ${tag}`);
  assert.deepEqual(addresses(message.from), [{ name: '', email: `${server.id}@${server.id}.${domain}` }]);
  assert.deepEqual(plain(message.text.codes), [{ value: '424242' }]);
  const files = Object.fromEntries(message.attachments.map((a) => [a.fileName, a]));
  assert.equal(files['logo.png'].contentId, `logo.${tag}`);
  assert.deepEqual(Buffer.from(await client.files.getAttachment(files['payload.bin'].id)), payload);
  assert.deepEqual(Buffer.from(await client.files.getAttachment(files['logo.png'].id)), logo);
  assert.equal((await client.messages.getById(message.id)).subject, `Created ${tag}`);
  return message;
});

await step('messages.create with send: true delivers to a MailSink address, where messages.get finds it', async () => {
  const to = `sent.${tag}@${server.id}.${domain}`;
  const sent = await client.messages.create(server.id, { to, subject: `Sent ${tag}`, text: 'sent through the API', send: true });
  const found = await client.messages.get(server.id, { sentTo: to }, { timeout: 10_000 });
  assert.equal(found.id, sent.id);
  assert.deepEqual(found.metadata.mailFrom, `${server.id}@${server.id}.${domain}`);
});

await step('messages.forward sends the message on with its attachments, "Fwd:" and the given text on top', async () => {
  const to = `forwarded.${tag}@${server.id}.${domain}`;
  const forwarded = await client.messages.forward(created.id, { to, text: `Please look ${tag}` });
  assert.equal(forwarded.subject, `Fwd: Created ${tag}`);
  assert.deepEqual(addresses(forwarded.to), [{ name: '', email: to }]);
  assert.ok(forwarded.text.body.startsWith(`Please look ${tag}`), forwarded.text.body);
  assert.ok(forwarded.text.body.includes('---------- Forwarded message ---------'), forwarded.text.body);
  const payloadCopy = forwarded.attachments.find((a) => a.fileName === 'payload.bin');
  assert.deepEqual(Buffer.from(await client.files.getAttachment(payloadCopy.id)), payload);
});

await step('messages.reply answers the sender, threaded with In-Reply-To and References', async () => {
  const original = await client.messages.getById(created.id);
  const messageId = original.metadata.headers.find((h) => h.field.toLowerCase() === 'message-id').value;
  const reply = await client.messages.reply(created.id, { text: `Thanks ${tag}` });
  assert.equal(reply.subject, `Re: Created ${tag}`);
  assert.deepEqual(addresses(reply.to), addresses(original.from));
  const header = (name) => reply.metadata.headers.find((h) => h.field.toLowerCase() === name)?.value;
  assert.equal(header('in-reply-to'), messageId);
  assert.equal(header('references'), messageId);
});

await step('messages.reply to an outside sender is refused with a 400 that says why (no relay configured)', async () => {
  const outside = await client.messages.create(server.id, { from: 'someone@example.com', subject: `Outside ${tag}`, text: 'x' });
  const error = await rejectsWith(client.messages.reply(outside.id, { text: 'no' }), {
    message: '(to) Sending to someone@example.com is not available in MailSink without a relay: it delivers only to its own inboxes '
      + '(addresses such as anything@<server>.localhost) unless MailSink:Relay:Host and MailSink:Relay:AllowedRecipients are configured.\r\n',
    errorType: 'invalid_request',
    httpStatusCode: 400,
  });
  assert.ok(error.httpResponseBody.includes('not available in MailSink'));
});

await step('messages.list with dir asc gives the oldest first', async () => {
  const newestFirst = (await client.messages.list(server.id)).items.map((m) => m.id);
  const oldestFirst = (await client.messages.list(server.id, { dir: 'asc' })).items.map((m) => m.id);
  assert.ok(newestFirst.length >= 4, `only ${newestFirst.length} messages`);
  assert.deepEqual(oldestFirst, [...newestFirst].reverse());
});

await step('devices: create, list, otp by id and by secret, delete', async () => {
  const sharedSecret = 'ONSWG4TFOQYTEMY=';
  const device = await client.devices.create({ name: `phone ${tag}`, sharedSecret });
  assert.ok(device.id.includes('-'), `the client tells ids from secrets by a hyphen: ${device.id}`);
  assert.equal(device.name, `phone ${tag}`);
  assert.ok((await client.devices.list()).items.some((d) => d.id === device.id));
  for (;;) {
    const byId = await client.devices.otp(device.id);
    const bySecret = await client.devices.otp(sharedSecret);
    assert.match(byId.code, /^\d{6}$/);
    assert.ok(byId.expires.getTime() > Date.now() - 1000 && byId.expires.getTime() <= Date.now() + 31_000, `expires ${byId.expires}`);
    if (byId.expires.getTime() !== bySecret.expires.getTime()) continue; // the two calls straddled a 30 s step
    assert.equal(byId.code, bySecret.code);
    break;
  }
  await client.devices.del(device.id);
  assert.ok(!(await client.devices.list()).items.some((d) => d.id === device.id));
  await rejectsWith(client.devices.otp(device.id), { message: 'Not found, check input parameters.', errorType: 'invalid_request', httpStatusCode: 404 });
});

await step('usage.limits and usage.transactions count what MailSink holds', async () => {
  const limits = await client.usage.limits();
  const kept = (await client.servers.list()).items.reduce((sum, s) => sum + s.messages, 0);
  assert.ok(limits.servers.current >= 1);
  assert.equal(limits.email.current, kept);
  assert.equal(limits.sms.current, 0);
  const transactions = await client.usage.transactions();
  assert.equal(transactions.items.length, 31);
  assert.ok(transactions.items[0].email >= (await client.messages.list(server.id)).items.length);
});

await step('analysis.spam scores a message with SpamAssassin (GTUBE is spam, with its rule)', async () => {
  const gtube = await client.messages.create(server.id, {
    subject: `Spam ${tag}`,
    text: 'XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X',
  });
  const result = await client.analysis.spam(gtube.id);
  assert.ok(result.score >= 1000, `score ${result.score}`);
  const rule = result.spamFilterResults.spamAssassin.find((r) => r.rule === 'GTUBE');
  assert.ok(rule, JSON.stringify(result));
  assert.equal(rule.score, 1000);
  assert.match(rule.description, /Generic Test for Unsolicited Bulk Email/);
});

await step('analysis.deliverability reports SPF, DKIM, DMARC and the content checks', async () => {
  const report = await client.analysis.deliverability(created.id);
  const results = ['Pass', 'Warning', 'Fail', 'Timeout'];
  assert.ok(results.includes(report.spf.result), JSON.stringify(report.spf));
  assert.ok(report.dkim.length >= 1 && report.dkim.every((d) => results.includes(d.result)), JSON.stringify(report.dkim));
  assert.equal(report.dkim[0].result, 'Warning'); // made through the API: not signed
  assert.ok(results.includes(report.dmarc.result), JSON.stringify(report.dmarc));
  assert.equal(report.content.script, false);
  assert.equal(report.content.missingListUnsubscribe, true);
  assert.ok(report.content.totalSize > 0);
});

await step('previews: listEmailClients, generatePreviews and getPreview give a PNG from MailSink\'s own profiles', async () => {
  const clients = await client.previews.listEmailClients();
  const names = clients.items.map((c) => c.name);
  assert.ok(names.includes('mailsink-mobile-light'), names.join(', '));
  const previews = await client.messages.generatePreviews(created.id, { emailClients: ['mailsink-mobile-light'] });
  assert.equal(previews.items.length, 1);
  assert.equal(previews.items[0].emailClient, 'mailsink-mobile-light');
  const png = Buffer.from(await client.files.getPreview(previews.items[0].id));
  assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  assert.equal(png.readUInt32BE(16), 390); // the profile's width, from the PNG header
});

await step('401 with the client\'s message when the API key is wrong', async () => {
  const intruder = new MailosaurClient(`wrong-${apiKey}`, baseUrl);
  await rejectsWith(intruder.servers.list(), {
    message: 'Authentication failed, check your API key.', errorType: 'authentication_error', httpStatusCode: 401,
  });
  await rejectsWith(intruder.messages.getById(second.id), {
    message: 'Authentication failed, check your API key.', errorType: 'authentication_error', httpStatusCode: 401,
  });
});

await step('404 with the client\'s message for an unknown message id', async () => {
  await rejectsWith(client.messages.getById(randomUUID()), {
    message: 'Not found, check input parameters.', errorType: 'invalid_request', httpStatusCode: 404,
  });
});

await step('400 with the server\'s validation message from servers.create({})', async () => {
  const error = await rejectsWith(client.servers.create({}), {
    message: '(name) Servers need a name\r\n', errorType: 'invalid_request', httpStatusCode: 400,
  });
  assert.ok(error.httpResponseBody.startsWith('{"type":'), `body: ${error.httpResponseBody}`);
});

await step('servers.del deletes the server; get then fails with 404', async () => {
  await client.servers.del(server.id);
  await rejectsWith(client.servers.get(server.id), {
    message: 'Not found, check input parameters.', errorType: 'invalid_request', httpStatusCode: 404,
  });
  assert.ok(!(await client.servers.list()).items.some((s) => s.id === server.id));
});

log('all steps passed');
