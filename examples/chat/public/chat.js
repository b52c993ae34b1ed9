// The chat page: one Socket.IO connection, one channel at a time. Plain browser JavaScript;
// `io` comes from /vendor/socket.io.min.js. Everything the server sends is shown with
// textContent, never as HTML.
(() => {
  'use strict';

  const $ = id => document.getElementById(id);
  const ui = {
    status: $('status'),
    joinForm: $('join-form'),
    username: $('username'),
    channel: $('channel'),
    join: $('join'),
    current: $('current-channel'),
    messages: $('messages'),
    messageForm: $('message-form'),
    message: $('message'),
    send: $('send'),
  };

  // The default client: HTTP long-polling first, then an upgrade to WebSocket.
  const socket = io();

  const state = {
    me: '',          // the name we joined with
    channel: '',     // the channel we are in (or joining), '' before the first join
    joining: false,  // joinChannel sent, our own userJoined not seen yet
  };

  const NAME_KEY = 'roomcast-chat-username';
  try { ui.username.value = localStorage.getItem(NAME_KEY) || ''; } catch { /* no storage */ }
  // A link to /#tech opens with channel `tech` filled in.
  try {
    ui.channel.value = decodeURIComponent(location.hash.slice(1)) || 'general';
  } catch {
    ui.channel.value = 'general';
  }

  function setStatus(kind, text) {
    ui.status.dataset.state = kind;
    ui.status.textContent = text;
  }

  function scrollDown() { ui.messages.scrollTop = ui.messages.scrollHeight; }

  function notice(text, kind = 'notice') {
    const li = document.createElement('li');
    li.className = kind === 'error' ? 'notice error' : 'notice';
    li.dataset.testid = kind;
    li.textContent = text;
    ui.messages.append(li);
    scrollDown();
  }

  function message({ from, text, timestamp }) {
    const li = document.createElement('li');
    li.className = from === state.me ? 'message mine' : 'message';
    li.dataset.testid = 'message';
    li.dataset.from = from;
    li.dataset.timestamp = String(timestamp);

    const who = document.createElement('span');
    who.className = 'from';
    who.dataset.testid = 'message-from';
    who.textContent = from;

    const when = document.createElement('time');
    when.className = 'time';
    when.dataset.testid = 'message-time';
    const date = new Date(timestamp);
    if (!Number.isNaN(date.getTime())) {
      when.dateTime = date.toISOString();
      when.title = date.toLocaleString();
      when.textContent = date.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
    }

    const body = document.createElement('span');
    body.className = 'text';
    body.dataset.testid = 'message-text';
    body.textContent = text;

    li.append(who, when, body);
    ui.messages.append(li);
    scrollDown();
  }

  function render() {
    const inChannel = Boolean(state.channel);
    ui.current.dataset.channel = state.channel;
    ui.current.textContent =
      inChannel ? `#${state.channel} — you are ${state.me}` : 'No channel yet';
    ui.join.textContent = inChannel ? 'Switch' : 'Join';
    ui.message.disabled = ui.send.disabled = !inChannel;
    ui.message.placeholder = inChannel ? `Message #${state.channel}` : 'Join a channel to chat';
    document.title = inChannel ? `#${state.channel} · roomcast chat` : 'roomcast chat';
  }

  function sendJoin() {
    state.joining = true;
    socket.emit('joinChannel', { channelName: state.channel, username: state.me });
  }

  ui.joinForm.addEventListener('submit', event => {
    event.preventDefault();
    const name = ui.username.value.trim();
    const channel = ui.channel.value.trim();
    if (!name || !channel || (name === state.me && channel === state.channel)) return;
    try { localStorage.setItem(NAME_KEY, name); } catch { /* no storage */ }
    if (channel !== state.channel) {
      if (state.channel && socket.connected) {
        socket.emit('leaveChannel', { channelName: state.channel });
      }
      ui.messages.replaceChildren();
      if (state.channel) notice(`You left #${state.channel}.`);
    }
    state.me = name;
    state.channel = channel;
    render();
    // When offline, the join is sent on (re)connection instead.
    if (socket.connected) sendJoin();
    ui.message.focus();
  });

  ui.messageForm.addEventListener('submit', event => {
    event.preventDefault();
    const text = ui.message.value;
    if (!state.channel || !text.trim()) return;
    socket.emit('sendMessage', { channel: state.channel, message: text });
    ui.message.value = '';
    ui.message.focus();
  });

  socket.on('connect', () => {
    setStatus('connected', 'connected');
    // A new connection is in no channel: (re)join the one we were in.
    if (state.channel) sendJoin();
  });
  socket.on('disconnect', reason => {
    setStatus('disconnected', `disconnected (${reason}), reconnecting…`);
    state.joining = false;
  });
  socket.on('connect_error', err => {
    setStatus('disconnected', `cannot connect: ${err.message}`);
  });

  // Until our own userJoined arrives, events may still come from the channel we left.
  socket.on('userJoined', ({ username }) => {
    if (state.joining) {
      if (username !== state.me) return;
      state.joining = false;
      notice(`You joined #${state.channel} as ${username}.`);
      return;
    }
    notice(`${username} joined.`);
  });
  socket.on('userLeft', ({ username }) => {
    if (!state.joining) notice(`${username} left.`);
  });
  socket.on('newMessage', m => {
    if (!state.joining) message(m);
  });
  socket.on('error', ({ message: text } = {}) => {
    notice(`Error: ${text}`, 'error');
    if (state.joining && String(text).includes('joinChannel')) {
      state.joining = false;
      state.channel = '';
      render();
    }
  });

  render();
})();
