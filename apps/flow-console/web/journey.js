'use strict';
/* One order's journey: a time axis with a lane per place where things happen, and the same steps as a table. */
(() => {
  const root = document.querySelector('[data-testid="journey"]');
  const timeline = document.getElementById('timeline');
  const inspector = document.getElementById('inspector');
  const LABEL_WIDTH = 176;
  const CARD = { width: 256, row: 40, gap: 10 };
  const MIN_STEP_GAP = 22;
  const LINE_Y = 12;

  let orderId = null;
  let journey = null;
  let unfollow = null;
  let timelineWidth = 0;
  const seen = new Set();
  const focus = { hovered: null, pinned: null, inTable: false };

  function start() {
    initPlaceOrder((result) => switchTo(result.orderId, true));
    initRecentOrders((id) => switchTo(id, true));
    window.addEventListener('popstate', () => switchTo(orderIdFromPath(), false));
    for (const area of [timeline, document.getElementById('step-rows')]) {
      area.addEventListener('mouseover', (event) => hover(stepIdAt(event), area !== timeline));
      area.addEventListener('focusin', (event) => hover(stepIdAt(event), area !== timeline));
      area.addEventListener('mouseleave', () => hover(null, false));
      area.addEventListener('click', (event) => pin(stepIdAt(event), area !== timeline));
    }
    document.addEventListener('scroll', showInspector, { capture: true, passive: true });
    document.addEventListener('keydown', (event) => event.key === 'Escape' && pin(null));
    new ResizeObserver(() => {
      if (journey && timeline.clientWidth !== timelineWidth) render();
    }).observe(timeline);
    switchTo(orderIdFromPath(), false);
  }

  const orderIdFromPath = () =>
    decodeURIComponent(location.pathname.split('/').filter(Boolean).pop() || '');
  const stepIdAt = (event) => event.target.closest('[data-step-id]')?.dataset.stepId ?? null;

  function switchTo(id, push) {
    if (id === orderId) return;
    if (push) history.pushState(null, '', orderPath(id));
    if (unfollow) unfollow();
    orderId = id;
    journey = null;
    seen.clear();
    focus.hovered = focus.pinned = null;
    root.dataset.orderId = id;
    root.dataset.complete = 'false';
    setCurrentOrder(id);
    restoreAccepted(id);
    patch(
      timeline,
      h('p', { class: 'muted waiting' }, `Waiting for the first facts about order ${shortId(id)}…`),
    );
    patch(document.getElementById('step-rows'));
    showInspector();
    const base = `/api/journeys/${encodeURIComponent(id)}`;
    unfollow = follow(`${base}/stream`, 'journey', base, (data) => {
      if (data.orderId !== orderId) return undefined;
      // only steps that arrive while watching fade in, not the whole journey on first paint
      if (!journey) for (const step of data.steps) seen.add(step.id);
      journey = data;
      render();
      return data.complete ? 'done' : undefined;
    });
  }

  function render() {
    const steps = [...journey.steps].sort((a, b) => a.sinceStartMs - b.sinceStartMs);
    root.dataset.orderId = journey.orderId;
    root.dataset.status = journey.status ?? '';
    root.dataset.complete = String(journey.complete);
    document.title = `Flow console: order ${shortId(journey.orderId)}`;
    renderHead();
    renderMissing();
    renderTimeline(steps);
    patch(document.getElementById('step-rows'), steps.map(stepRow));
    document.getElementById('partition-note').textContent = partitionNote(steps);
    showInspector();
    for (const step of steps) seen.add(step.id);
    document.body.dataset.ready = 'true';
  }

  function renderHead() {
    patch(
      document.getElementById('journey-head'),
      h('h1', { title: journey.orderId }, 'Order ', h('span', { class: 'mono' }, journey.orderId)),
      badge(journey.status),
      journey.complete
        ? h(
            'span',
            { class: 'progress done', title: 'final status reached and its email sent' },
            '✓ complete',
          )
        : h(
            'span',
            { class: 'progress live', title: 'new steps appear as they happen' },
            'in flight',
          ),
      journey.traceUrl
        ? h(
            'a',
            {
              class: 'trace-link',
              href: journey.traceUrl,
              target: '_blank',
              rel: 'noopener',
              'data-trace-link': journey.traceId,
              title: 'this order as one OpenTelemetry trace, from POST /orders to the SMTP send',
            },
            'trace ↗',
          )
        : null,
      h(
        'span',
        { class: 'muted who' },
        [
          journey.customerEmail,
          journey.startedAt && `placed ${new Date(journey.startedAt).toLocaleTimeString()}`,
        ]
          .filter(Boolean)
          .join(' · '),
      ),
    );
  }

  function renderMissing() {
    const missing = journey.missing;
    patch(
      document.getElementById('missing'),
      missing.length === 0
        ? null
        : h(
            'div',
            { class: 'missing', role: 'status' },
            h('b', null, 'Some facts could not be read, so the journey is shown without them:'),
            h(
              'ul',
              null,
              missing.map((fact) => h('li', null, fact)),
            ),
          ),
    );
  }

  /* Timeline */

  function renderTimeline(steps) {
    timelineWidth = timeline.clientWidth;
    const times = [...new Set(steps.map((step) => step.sinceStartMs))].sort((a, b) => a - b);
    const xs = spreadTimes(times, Math.max(300, timelineWidth - LABEL_WIDTH - CARD.width - 30));
    const xOf = (ms) => xs[times.indexOf(ms)] + 16;
    const trackWidth = (xs[xs.length - 1] ?? 0) + CARD.width + 24;
    // a step in a lane the list does not name still gets a row
    const laneNames = [...new Set([...journey.lanes, ...steps.map((step) => step.lane)])];
    const lanes = laneNames.map((lane) =>
      laneRow(
        lane,
        steps.filter((s) => s.lane === lane),
        xOf,
        trackWidth,
      ),
    );
    patch(
      timeline,
      h(
        'div',
        { class: 'tl-inner', 'data-key': 'inner', style: `width:${LABEL_WIDTH + trackWidth}px` },
        axisRow(times, xs, trackWidth),
        lanes,
      ),
    );
  }

  /**
   * Linear in time as far as the width allows, but consecutive moments stay at least
   * MIN_STEP_GAP apart: the biggest scale whose gaps (each at least the minimum) still fit.
   */
  function spreadTimes(times, width) {
    const gaps = times.slice(1).map((t, i) => t - times[i]);
    const span = (scale) => gaps.reduce((sum, gap) => sum + Math.max(MIN_STEP_GAP, gap * scale), 0);
    let low = 0;
    let high = width / Math.max(1, times[times.length - 1] - times[0]);
    for (let i = 0; i < 40; i++) {
      const mid = (low + high) / 2;
      if (span(mid) <= width) low = mid;
      else high = mid;
    }
    const xs = [0];
    for (const gap of gaps) xs.push(xs[xs.length - 1] + Math.max(MIN_STEP_GAP, gap * low));
    return times.length ? xs : [];
  }

  function axisRow(times, xs, trackWidth) {
    const ticks = [];
    times.forEach((ms, i) => {
      const last = ticks[ticks.length - 1];
      if (!last || xs[i] - last.x >= 64) ticks.push({ ms, x: xs[i] });
    });
    return h(
      'div',
      { class: 'tl-row axis', 'data-key': 'axis' },
      h('div', { class: 'lane-name' }, 'time since the 202'),
      h(
        'div',
        { class: 'track', style: `width:${trackWidth}px` },
        ticks.map((tick) =>
          h(
            'span',
            { class: 'tick', 'data-key': `t${tick.ms}`, style: `left:${tick.x + 16}px` },
            formatMs(tick.ms),
          ),
        ),
      ),
    );
  }

  function laneRow(lane, steps, xOf, trackWidth) {
    const { cards, height } = layoutCards(steps, xOf);
    return h(
      'div',
      {
        class: `tl-row lane${lane === 'business' ? ' business' : ''}`,
        'data-key': `lane:${lane}`,
        'data-lane-row': lane,
      },
      h('div', { class: 'lane-name' }, laneTitle(lane)),
      h(
        'div',
        { class: 'track', style: `width:${trackWidth}px;height:${height}px` },
        h('div', { class: 'lane-line' }),
        steps.length === 0 ? h('span', { class: 'muted nothing' }, 'nothing here yet') : null,
        steps.map((step) =>
          h('span', {
            class: `dot ${category(step)}`,
            'data-key': `dot:${step.id}`,
            'data-step-id': step.id,
            style: `left:${xOf(step.sinceStartMs)}px`,
          }),
        ),
        cards.map(cardElement),
      ),
    );
  }

  function laneTitle(lane) {
    if (lane === 'business')
      return [h('b', null, 'Business'), h('small', null, 'what the order goes through')];
    if (lane === 'flow-console')
      return [h('b', null, lane), h('small', null, 'this console: reads only')];
    return h('b', null, lane);
  }

  /**
   * Steps close in time share one card, one row each, so nothing hides anything; a card starts
   * at its first step's moment. Branches (retries, dead letters) get cards of their own below.
   */
  function layoutCards(steps, xOf) {
    const cards = [];
    const open = { main: null, branch: null };
    for (const step of steps) {
      const x = xOf(step.sinceStartMs);
      const track = isBranch(step) ? 'branch' : 'main';
      const card = open[track];
      if (card && x < card.x + CARD.width + CARD.gap) card.steps.push(step);
      else cards.push((open[track] = { x, track, steps: [step] }));
    }
    const cardHeight = (card) => card.steps.length * CARD.row + 8;
    const mainHeight = Math.max(
      CARD.row,
      ...cards.filter((c) => c.track === 'main').map(cardHeight),
    );
    const branchTop = LINE_Y + 14 + mainHeight + 22;
    for (const card of cards) card.y = card.track === 'branch' ? branchTop : LINE_Y + 14;
    const bottoms = cards.map((card) => card.y + cardHeight(card));
    return { cards, height: Math.max(LINE_Y + 14 + CARD.row, ...bottoms) + 12 };
  }

  function cardElement(card) {
    return h(
      'div',
      {
        class: `step-card ${card.track}`,
        'data-key': `card:${card.steps[0].id}`,
        style: `left:${card.x - 6}px;top:${card.y}px;--drop:${card.y - LINE_Y}px`,
      },
      card.steps.map(stepElement),
    );
  }

  function stepElement(step) {
    const classes = ['step', category(step)];
    if (!seen.has(step.id)) classes.push('fresh');
    if (step.id === focus.pinned || step.id === focus.hovered) classes.push('focused');
    const meta = [`@ ${formatMs(step.sinceStartMs)}`, where(step, ' '), shortReplica(step)]
      .filter(Boolean)
      .join(' · ');
    return h(
      'div',
      {
        class: classes.join(' '),
        tabindex: 0,
        'data-key': step.id,
        'data-step-id': step.id,
        ...stepHooks(step),
      },
      h(
        'div',
        { class: 'step-line' },
        h('span', { class: 'step-label' }, step.label),
        h(
          'b',
          { class: 'step-delta' },
          step.sincePreviousMs === null ? 'start' : `+${formatMs(step.sincePreviousMs)}`,
        ),
      ),
      h('div', { class: 'step-meta' }, meta),
    );
  }

  const isBranch = (step) =>
    step.branch || step.kind === 'retrying' || step.kind === 'dead-lettered';

  /** The colour family of a step: business, Kafka mechanics, skipped, email or a branch. */
  function category(step) {
    if (isBranch(step) || step.kind === 'email-failed') return 'branch';
    if (step.kind === 'accepted' || step.kind === 'status') return 'business';
    if (step.kind === 'skipped' || step.kind === 'seen') return 'skipped';
    if (step.kind === 'email-sent') return 'email';
    return 'kafka';
  }

  function stepHooks(step) {
    const event = step.event;
    return {
      'data-step-kind': step.kind,
      'data-lane': step.lane,
      'data-topic': event?.topic,
      'data-partition': event?.partition,
      'data-offset': event?.offset,
      'data-event-type': event?.type,
    };
  }

  function where(step, separator = ' · ') {
    const event = step.event;
    if (!event) return '';
    return [
      event.topic,
      event.partition !== null && `p${event.partition}`,
      event.offset !== null && `@${event.offset}`,
    ]
      .filter(Boolean)
      .join(separator);
  }

  /** The lane already names the service, so a card only needs the replica's own part. */
  function shortReplica(step) {
    const replica = step.replica;
    if (!replica) return '';
    return replica.startsWith(`${step.lane}-`)
      ? `#${replica.slice(step.lane.length + 1)}`
      : replica;
  }

  /* Table */

  function stepRow(step) {
    const focused = step.id === focus.pinned || step.id === focus.hovered;
    return h(
      'tr',
      {
        class: `${category(step)}${focused ? ' focused' : ''}`,
        'data-key': step.id,
        'data-step-id': step.id,
        'data-testid': 'journey-step',
        ...stepHooks(step),
      },
      h('td', { class: 'num' }, formatMs(step.sinceStartMs)),
      h(
        'td',
        { class: 'num muted' },
        step.sincePreviousMs === null ? '' : `+${formatMs(step.sincePreviousMs)}`,
      ),
      h('td', null, step.lane),
      h('td', null, h('span', { class: `kind ${category(step)}` }, step.kind), ' ', step.label),
      h('td', { class: 'mono' }, where(step) || '–'),
      h('td', { class: 'mono muted' }, step.replica ?? '–'),
    );
  }

  function partitionNote(steps) {
    const places = new Set(
      steps
        .filter((s) => s.event && s.event.partition !== null && !s.event.topic.endsWith('.dlq'))
        .map((s) => `${s.event.topic} p${s.event.partition}`),
    );
    return places.size ? ` (here: ${[...places].join(', ')})` : '';
  }

  /* Inspector: the hovered or pinned step's event and detail. */

  function hover(stepId, inTable) {
    if (focus.hovered === stepId) return;
    focus.hovered = stepId;
    if (stepId) focus.inTable = inTable;
    refreshFocus();
  }

  function pin(stepId, inTable) {
    focus.pinned = focus.pinned === stepId ? null : stepId;
    focus.inTable = inTable;
    refreshFocus();
  }

  function refreshFocus() {
    if (!journey) return;
    for (const el of document.querySelectorAll('[data-step-id]')) {
      el.classList.toggle(
        'focused',
        el.dataset.stepId === focus.pinned || el.dataset.stepId === focus.hovered,
      );
    }
    showInspector();
  }

  function showInspector() {
    const stepId = focus.hovered ?? focus.pinned;
    const step = journey?.steps.find((s) => s.id === stepId);
    const anchor =
      step &&
      document.querySelector(
        `${focus.inTable ? 'tr' : '.step'}[data-step-id="${CSS.escape(step.id)}"]`,
      );
    inspector.hidden = !anchor;
    if (!anchor) return;
    patch(inspector, inspectorContent(step));
    const box = anchor.getBoundingClientRect();
    const left = Math.min(box.left, window.innerWidth - inspector.offsetWidth - 12);
    const below = box.bottom + 8 + inspector.offsetHeight < window.innerHeight;
    inspector.style.left = `${Math.max(8, left)}px`;
    inspector.style.top = `${below ? box.bottom + 8 : Math.max(8, box.top - inspector.offsetHeight - 8)}px`;
  }

  function inspectorContent(step) {
    const event = step.event;
    const row = (name, value) => [h('dt', null, name), h('dd', { class: 'mono' }, value ?? '–')];
    return h(
      'div',
      null,
      h(
        'p',
        { class: 'inspector-title' },
        h('span', { class: `kind ${category(step)}` }, step.kind),
        ' ',
        step.label,
      ),
      h(
        'p',
        { class: 'muted' },
        `${step.lane}${step.replica ? ` · ${step.replica}` : ''} · @ ${formatMs(step.sinceStartMs)} · ${new Date(step.at).toLocaleTimeString()}`,
      ),
      event
        ? h(
            'dl',
            null,
            row('event id', event.eventId),
            row('type', event.type),
            row('topic', event.topic),
            row('partition', event.partition),
            row('offset', event.offset),
          )
        : h('p', { class: 'muted' }, 'No Kafka event: this step happened inside the service.'),
      step.detail ? h('p', { class: 'detail' }, step.detail) : null,
      h(
        'p',
        { class: 'hint' },
        focus.pinned === step.id ? 'Pinned: click again or press Esc to release.' : 'Click to pin.',
      ),
    );
  }

  start();
})();
