'use strict';
/* The system map: services → topics → consumer groups, redrawn from each overview. */
(() => {
  const map = document.querySelector('[data-testid="system-map"]');
  const arrows = map.querySelector('svg.arrows');
  let overview = null;
  const previousLogEnd = new Map();
  const pending = new Set();
  /** What a pause/resume answered, kept until the overview agrees (it is sampled a little later). */
  const pausedOverrides = new Map();

  function start() {
    initPlaceOrder((result) => location.assign(orderPath(result.orderId)));
    initRecentOrders(null);
    follow('/api/overview/stream', 'overview', '/api/overview', (data) => {
      overview = data;
      render();
    });
    map.addEventListener('click', onPauseClick);
    new ResizeObserver(drawArrows).observe(map);
  }

  function render() {
    applyOverrides(overview);
    patch(document.getElementById('services'), overview.services.map(serviceCard));
    const topics = overview.topics.filter((topic) => !topic.deadLetter);
    const deadLetters = overview.topics.filter((topic) => topic.deadLetter);
    patch(document.getElementById('topics'), topics.map(topicCard));
    patch(document.getElementById('dead-letters'), deadLetters.map(topicCard));
    patch(document.getElementById('groups'), overview.groups.map(groupCard));
    document.getElementById('generated').textContent =
      `as of ${new Date(overview.generatedAt).toLocaleTimeString()}`;
    drawArrows();
    document.body.dataset.ready = 'true';
  }

  function applyOverrides(data) {
    for (const [service, override] of pausedOverrides) {
      const group = data.groups.find((g) => g.service === service);
      if (!group || group.paused === override.paused || Date.now() > override.until) {
        pausedOverrides.delete(service);
        continue;
      }
      group.paused = override.paused;
      const view = data.services.find((s) => s.name === service);
      if (view) view.paused = override.paused;
    }
  }

  /* Services */

  function serviceCard(service) {
    return h(
      'article',
      {
        class: 'node service',
        'data-key': service.name,
        'data-anchor': `service:${service.name}`,
        'data-testid': 'service',
        'data-service': service.name,
        'data-outbox-backlog': service.outbox ? service.outbox.backlog : null,
      },
      h(
        'header',
        { class: 'node-head' },
        h('b', null, service.name),
        h(
          'span',
          { class: 'muted' },
          `${service.replicas.length} replica${service.replicas.length === 1 ? '' : 's'}`,
        ),
        service.paused ? h('span', { class: 'badge paused' }, 'PAUSED') : null,
      ),
      h('ul', { class: 'replicas' }, service.replicas.map(replicaRow)),
      h('dl', { class: 'figures' }, serviceFigures(service)),
      service.produces.length
        ? h(
            'p',
            { class: 'tags' },
            h('span', { class: 'muted' }, 'publishes'),
            service.produces.map((type) => h('span', { class: 'tag' }, type)),
          )
        : null,
    );
  }

  function replicaRow(replica) {
    const state = replicaState(replica);
    const consumer = replica.consumer;
    const troubles = [
      consumer && consumer.retrying
        ? h('span', { class: 'tag warn' }, `retrying ${consumer.retrying}`)
        : null,
      consumer && consumer.deadLettered
        ? h('span', { class: 'tag bad' }, `dead-lettered ${consumer.deadLettered}`)
        : null,
    ].filter(Boolean);
    return h(
      'li',
      { 'data-key': replica.replica, title: replica.url },
      h('span', { class: `dot ${state.tone}` }),
      h('span', { class: 'mono' }, replica.replica),
      h('span', { class: 'muted state' }, state.text),
      troubles.length ? h('span', { class: 'troubles' }, troubles) : null,
    );
  }

  function replicaState(replica) {
    if (!replica.reachable) return { text: 'unreachable', tone: 'bad' };
    if (!replica.consumer) return { text: 'no consumer', tone: 'idle' };
    if (replica.consumer.paused) return { text: 'paused', tone: 'warn' };
    const tones = { joined: 'ok', joining: 'warn', crashed: 'bad' };
    return { text: replica.consumer.state, tone: tones[replica.consumer.state] || 'idle' };
  }

  function serviceFigures(service) {
    const figures = [];
    if (service.outbox) {
      figures.push(
        figure(
          'outbox backlog',
          service.outbox.backlog,
          service.outbox.backlog > 0 ? 'warn' : null,
        ),
      );
      const age = service.outbox.oldestUnsentAgeMs;
      figures.push(figure('oldest unsent', age === null ? '–' : formatMs(age)));
    }
    for (const [name, value] of Object.entries(service.figures)) {
      figures.push(figure(humanize(name), value, value > 0 && /fail/i.test(name) ? 'bad' : null));
    }
    if (service.retrying) figures.push(figure('retrying', service.retrying, 'warn'));
    return figures;
  }

  const figure = (name, value, tone) =>
    h(
      'div',
      { class: tone ? `figure ${tone}` : 'figure' },
      h('dt', null, name),
      h('dd', null, value),
    );
  const humanize = (camel) => camel.replace(/([A-Z])/g, ' $1').toLowerCase();

  /* Topics */

  function topicCard(topic) {
    return h(
      'article',
      {
        class: topic.deadLetter ? 'node topic dead' : 'node topic',
        'data-key': topic.name,
        'data-anchor': `topic:${topic.name}`,
        'data-testid': 'topic',
        'data-topic': topic.name,
      },
      h(
        'header',
        { class: 'node-head' },
        h('b', null, topic.name),
        topic.deadLetter ? null : h('span', { class: 'muted' }, 'key = order id'),
      ),
      topic.deadLetter ? deadLetterSummary(topic) : null,
      h(
        'div',
        { class: 'partitions' },
        topic.partitions.map((p) => partitionBox(topic, p)),
      ),
      h(
        'p',
        { class: 'meta' },
        topic.producers.length ? `from ${topic.producers.join(', ')}` : 'no producer',
        ' · ',
        topic.consumerGroups.length ? `read by ${topic.consumerGroups.join(', ')}` : 'no readers',
      ),
    );
  }

  function partitionBox(topic, partition) {
    const key = `${topic.name}/${partition.partition}`;
    const before = previousLogEnd.get(key);
    previousLogEnd.set(key, partition.logEndOffset);
    return h(
      'div',
      {
        class:
          before !== undefined && before !== partition.logEndOffset
            ? 'partition grew'
            : 'partition',
        'data-key': partition.partition,
        'data-testid': 'partition',
        'data-partition': partition.partition,
        'data-log-end': partition.logEndOffset,
        title: `partition ${partition.partition}: the next record gets offset ${partition.logEndOffset}`,
      },
      h('span', null, `p${partition.partition}`),
      h('b', null, partition.logEndOffset),
    );
  }

  function deadLetterSummary(topic) {
    const letters = topic.deadLetters || { count: 0, latest: null };
    const latest = letters.latest;
    return h(
      'div',
      { class: 'dead-summary' },
      h(
        'p',
        null,
        h('b', { class: letters.count ? 'bad-text' : null }, letters.count),
        ` dead letter${letters.count === 1 ? '' : 's'}`,
      ),
      latest
        ? h(
            'p',
            { class: 'meta' },
            `latest: ${latest.reason}, from ${latest.group}, ${ago(latest.at)}`,
          )
        : null,
      latest ? h('p', { class: 'reason mono' }, latest.error) : null,
    );
  }

  /* Consumer groups */

  function groupCard(group) {
    const isConsole = group.console;
    return h(
      'article',
      {
        class: `node group${group.paused ? ' paused' : ''}${isConsole ? ' console' : ''}`,
        'data-key': group.groupId,
        'data-anchor': `group:${group.groupId}`,
        'data-testid': 'group',
        'data-group': group.groupId,
        'data-lag': group.lag,
        'data-paused': String(group.paused),
      },
      h(
        'header',
        { class: 'node-head' },
        h('b', null, group.groupId),
        group.paused ? h('span', { class: 'badge paused' }, 'PAUSED') : null,
        group.service ? pauseButton(group) : null,
      ),
      isConsole
        ? h('p', { class: 'meta' }, 'The console itself: reads everything, changes nothing.')
        : null,
      h(
        'p',
        { class: 'meta' },
        `${group.state} · ${group.members.length} member${group.members.length === 1 ? '' : 's'}`,
      ),
      h(
        'ul',
        { class: 'members' },
        group.members.length
          ? group.members.map(memberRow)
          : h('li', { class: 'muted' }, 'no members: nobody is reading'),
      ),
      lagCells(group),
      h(
        'div',
        { class: 'lag-total' },
        h('span', null, 'lag ', h('b', { class: group.lag > 0 ? 'warn-text' : null }, group.lag)),
        sparkline(group.lagHistory),
      ),
    );
  }

  function pauseButton(group) {
    const action = group.paused ? 'resume' : 'pause';
    return h(
      'button',
      {
        type: 'button',
        class: `small ${action}`,
        'data-testid': action,
        'data-action': action,
        'data-service': group.service,
        disabled: pending.has(group.service),
      },
      group.paused ? 'Resume' : 'Pause',
    );
  }

  function memberRow(member) {
    return h(
      'li',
      {
        'data-key': member.memberId,
        'data-testid': 'member',
        title: `${member.memberId} on ${member.host}`,
      },
      h('span', { class: 'mono' }, member.clientId),
      h('span', { class: 'muted' }, '→'),
      member.assignments.map((a) =>
        h('span', { class: 'tag' }, `${a.topic} ${a.partitions.map((p) => `p${p}`).join(' ')}`),
      ),
    );
  }

  function lagCells(group) {
    const topics = [...new Set(group.partitions.map((p) => p.topic))];
    return h(
      'div',
      { class: 'lag-cells' },
      topics.map((topic) =>
        h(
          'div',
          { 'data-key': topic },
          h('span', { class: 'muted' }, topic),
          group.partitions
            .filter((p) => p.topic === topic)
            .map((p) =>
              h(
                'span',
                {
                  class: p.lag > 0 ? 'lag-cell behind' : 'lag-cell',
                  title: `committed ${p.committedOffset ?? 'nothing yet'} of log-end ${p.logEndOffset}`,
                },
                `p${p.partition} `,
                h('b', null, p.lag),
              ),
            ),
        ),
      ),
    );
  }

  function sparkline(history) {
    const width = 120;
    const height = 24;
    const values = history.map((sample) => sample.lag);
    const max = Math.max(1, ...values);
    const step = width / Math.max(1, values.length - 1);
    const points = values.map(
      (v, i) => `${(i * step).toFixed(1)},${(height - 1 - (v / max) * (height - 3)).toFixed(1)}`,
    );
    return h(
      'span',
      { class: 'spark', title: `total lag, last ${values.length} s (max ${max})` },
      h(
        'svg',
        { width, height, viewBox: `0 0 ${width} ${height}` },
        points.length > 1
          ? h('polygon', { points: `0,${height} ${points.join(' ')} ${width},${height}` })
          : null,
        points.length > 1 ? h('polyline', { points: points.join(' ') }) : null,
      ),
      h('small', { class: 'muted' }, `max ${Math.max(...values, 0)}`),
    );
  }

  async function onPauseClick(event) {
    const button = event.target.closest('button[data-action]');
    if (!button) return;
    const { service, action } = button.dataset;
    pending.add(service);
    render();
    try {
      const result = await getJson(`/api/services/${encodeURIComponent(service)}/${action}`, {
        method: 'POST',
      });
      pausedOverrides.set(result.service, { paused: result.paused, until: Date.now() + 5000 });
    } catch {
      button.title = `could not ${action} ${service}`;
    } finally {
      pending.delete(service);
      render();
    }
  }

  /* Arrows: drawn from where the cards actually are, so they follow any layout change. */

  function drawArrows() {
    if (!overview) return;
    const box = map.getBoundingClientRect();
    const anchor = (key) =>
      map.querySelector(`[data-anchor="${CSS.escape(key)}"]`)?.getBoundingClientRect();
    const links = [];
    for (const topic of overview.topics) {
      const to = anchor(`topic:${topic.name}`);
      for (const service of topic.producers) {
        links.push(
          link(
            anchor(`service:${service}`),
            to,
            topic.deadLetter ? 'dead' : 'produce',
            `${service}>${topic.name}`,
          ),
        );
      }
      for (const group of topic.consumerGroups) {
        links.push(
          link(
            to,
            anchor(`group:${group}`),
            group === 'flow-console' ? 'observe' : 'consume',
            `${topic.name}>${group}`,
          ),
        );
      }
    }
    arrows.setAttribute('viewBox', `0 0 ${box.width} ${box.height}`);
    patch(arrows, markers(), links);

    function link(from, to, kind, key) {
      if (!from || !to) return null;
      const x1 = from.right - box.left;
      const y1 = from.top - box.top + Math.min(from.height / 2, 34);
      const x2 = to.left - box.left - 2;
      const y2 = to.top - box.top + Math.min(to.height / 2, 34);
      const bend = Math.max(24, (x2 - x1) / 2);
      return h('path', {
        'data-key': key,
        class: kind,
        'marker-end': `url(#head-${kind})`,
        d: `M${x1},${y1} C${x1 + bend},${y1} ${x2 - bend},${y2} ${x2},${y2}`,
      });
    }
  }

  function markers() {
    return h(
      'defs',
      { 'data-key': 'defs' },
      ['produce', 'consume', 'observe', 'dead'].map((kind) =>
        h(
          'marker',
          {
            id: `head-${kind}`,
            class: kind,
            viewBox: '0 0 8 8',
            refX: 7,
            refY: 4,
            markerWidth: 7,
            markerHeight: 7,
            orient: 'auto',
          },
          h('path', { d: 'M0,0 L8,4 L0,8 z' }),
        ),
      ),
    );
  }

  start();
})();
