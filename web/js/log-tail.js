// The live log tail: follows /v1/runs/:id/logs?follow=true (server-sent events) and keeps the newest lines on screen.
// @ts-check
/* global EventSource, setTimeout, clearTimeout, requestAnimationFrame */
import { fill, h } from './dom.js';

const MAX_LINES = 2000;

/** @typedef {import('../../src/contract/runs.js').LogLineEvent} LogLine */

/**
 * Starts after `afterSeq` and resumes from the last line seen when the connection drops (EventSource's own
 * retry would send Last-Event-ID, which the server does not read, and replay the log from the start).
 */
export class LogTail {
  /**
   * @param {string} runId
   * @param {{ afterSeq?: number,
   *   onStatus?: (e: import('../../src/contract/runs.js').LogStatusEvent) => void,
   *   onEnd?: (e: import('../../src/contract/runs.js').LogEndEvent) => void }} [options]
   */
  constructor(runId, { afterSeq = 0, onStatus = undefined, onEnd = undefined } = {}) {
    this.runId = runId;
    this.lastSeq = afterSeq;
    this.onStatus = onStatus;
    this.onEnd = onEnd;
    /** @type {EventSource | null} */
    this.source = null;
    this.ended = false;
    this.retryMs = 1000;
    /** @type {LogLine[]} the lines that arrived since the last frame */
    this.pending = [];
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    this.timer = undefined;
    this.lastBlank = false;
    this.count = 0;
    this.state = h('span', { class: 'live-dot', id: 'log-state' }, 'connecting…');
    this.pre = h('pre', { class: 'log', id: 'log', 'aria-live': 'off', tabindex: 0 });
    const follow = h('input', { type: 'checkbox', checked: true });
    follow.addEventListener('change', () => (this.follow = follow.checked));
    this.follow = true;
    this.el = h(
      'section',
      { class: 'card' },
      h(
        'div',
        { class: 'log-head' },
        h('h2', {}, 'Log'),
        this.state,
        h('span', { class: 'spacer', style: 'flex:1' }),
        h('label', { class: 'check' }, follow, 'follow'),
        h(
          'a',
          { href: `/v1/runs/${encodeURIComponent(runId)}/logs`, target: '_blank', rel: 'noopener' },
          'full log',
        ),
      ),
      this.pre,
    );
    if (afterSeq > 0)
      this.pre.append(h('span', { class: 'system' }, `… showing the log from line ${afterSeq + 1}\n`));
  }

  start() {
    if (this.ended) return;
    const url = `/v1/runs/${encodeURIComponent(this.runId)}/logs?follow=true&after=${this.lastSeq}`;
    const source = new EventSource(url, { withCredentials: true });
    this.source = source;
    source.addEventListener('open', () => {
      this.retryMs = 1000;
      this.setState('live', true);
    });
    source.addEventListener('line', (e) => this.line(JSON.parse(e.data)));
    source.addEventListener('status', (e) => this.onStatus?.(JSON.parse(e.data)));
    source.addEventListener('end', (e) => {
      this.ended = true;
      source.close();
      this.setState('ended', false);
      this.onEnd?.(JSON.parse(e.data));
    });
    source.addEventListener('error', () => {
      source.close();
      if (this.ended) return;
      this.setState(`reconnecting in ${Math.round(this.retryMs / 1000)}s…`, false);
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.start(), this.retryMs);
      this.retryMs = Math.min(this.retryMs * 2, 15000);
    });
  }

  stop() {
    this.ended = true;
    clearTimeout(this.timer);
    this.source?.close();
  }

  /**
   * @param {string} text
   * @param {boolean} on
   */
  setState(text, on) {
    fill(this.state, on ? '● live' : text);
    this.state.className = `live-dot${on ? ' on' : ''}`;
  }

  /** @param {LogLine} l */
  line(l) {
    if (l.seq <= this.lastSeq) return;
    this.lastSeq = l.seq;
    this.pending.push(l);
    if (this.pending.length === 1) requestAnimationFrame(() => this.flush());
  }

  /** Appends the lines that arrived since the last frame, drops the oldest beyond MAX_LINES, keeps the view at the bottom. */
  flush() {
    const lines = this.pending;
    /** @type {LogLine[]} the lines that arrived since the last frame */
    this.pending = [];
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    this.timer = undefined;
    this.lastBlank = false;
    const atBottom = this.pre.scrollHeight - this.pre.scrollTop - this.pre.clientHeight < 40;
    for (const l of lines) {
      // tqdm and the trainer print many empty lines; one in a row is enough to read the log.
      const blank = l.text.trim() === '';
      if (blank && this.lastBlank) continue;
      this.lastBlank = blank;
      this.pre.append(h('span', { class: l.stream === 'stdout' ? null : l.stream }, `${l.text}\n`));
    }
    this.count += lines.length;
    while (this.pre.childNodes.length > MAX_LINES) this.pre.firstChild?.remove();
    if (this.follow && (atBottom || this.count === lines.length)) this.pre.scrollTop = this.pre.scrollHeight;
  }
}
