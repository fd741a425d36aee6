import { describe, expect, it } from 'vitest';
import { register as defaultRegistry } from 'prom-client';
import { MAX_PEER_LABEL_VALUES, createMetrics } from './metrics.js';

const SPEC_NAMES = [
  'smppd_messages_submitted_total',
  'smppd_messages_delivered_total',
  'smppd_messages_failed_total',
  'smppd_dlr_received_total',
  'smppd_connection_active',
  'smppd_endpoint_requests_total',
  'smppd_endpoint_latency_seconds',
];

const OTHER_NAMES = [
  'smppd_client_sessions',
  'smppd_upstream_sessions',
  'smppd_window_used',
  'smppd_submit_responses_total',
  'smppd_retries_total',
  'smppd_circuit_state',
  'smppd_circuit_transitions_total',
  'smppd_store_entries',
  'smppd_store_evictions_total',
  'smppd_pending_deliveries',
  'smppd_dlr_unmatched_total',
  'smppd_dlr_orphan_held_total',
  'smppd_dlr_orphan_reclaimed_total',
  'smppd_mo_received_total',
  'smppd_bind_attempts_total',
  'smppd_config_reloads_total',
  'smppd_routing_decisions_total',
  'smppd_request_latency_seconds',
];

/** The sample line `name{labels} value` from Prometheus text, or undefined. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('metrics', () => {
  it('exposes every SPEC §5 metric and the others, with process metrics, in its own registry', async () => {
    const { registry } = createMetrics();
    const text = await registry.metrics();
    for (const name of [...SPEC_NAMES, ...OTHER_NAMES]) expect(text).toContain(`# TYPE ${name} `);
    expect(text).toContain('process_cpu_user_seconds_total');
    expect(await defaultRegistry.metrics()).not.toContain('smppd_');
  });

  it('two instances do not clash and count separately', async () => {
    const a = createMetrics();
    const b = createMetrics();
    a.messagesSubmitted.inc();
    a.messagesSubmitted.inc();
    b.messagesSubmitted.inc();
    expect(sample(await a.registry.metrics(), 'smppd_messages_submitted_total')).toBe(2);
    const bText = await b.registry.metrics();
    expect(sample(bText, 'smppd_messages_submitted_total')).toBe(1);
    expect(bText).toContain('process_cpu_user_seconds_total');
  });

  it('endpoint children move the labelled series', async () => {
    const m = createMetrics({ defaultMetrics: false });
    const ep = m.endpointMetrics('eu', 'smsc-1');
    expect(m.endpointMetrics('eu', 'smsc-1')).toBe(ep);
    ep.requests.inc();
    ep.requests.inc();
    ep.latency.observe(0.004);
    ep.windowUsed.set(7);
    ep.sessions('bound', 3);
    ep.circuit('open');
    const text = await m.registry.metrics();
    const l = 'cluster="eu",endpoint="smsc-1"';
    expect(sample(text, `smppd_endpoint_requests_total{${l}}`)).toBe(2);
    expect(sample(text, `smppd_endpoint_latency_seconds_bucket{le="0.0025",${l}}`)).toBe(0);
    expect(sample(text, `smppd_endpoint_latency_seconds_bucket{le="0.005",${l}}`)).toBe(1);
    expect(sample(text, `smppd_endpoint_latency_seconds_count{${l}}`)).toBe(1);
    expect(sample(text, `smppd_window_used{${l}}`)).toBe(7);
    expect(sample(text, `smppd_upstream_sessions{${l},state="bound"}`)).toBe(3);
    expect(sample(text, `smppd_circuit_state{${l}}`)).toBe(2);
    expect(sample(text, `smppd_circuit_transitions_total{${l},to="open"}`)).toBe(1);
  });

  it('a new endpoint reads closed, and remove() drops its series', async () => {
    const m = createMetrics({ defaultMetrics: false });
    const ep = m.endpointMetrics('eu', 'smsc-2');
    const l = 'cluster="eu",endpoint="smsc-2"';
    expect(sample(await m.registry.metrics(), `smppd_circuit_state{${l}}`)).toBe(0);
    ep.requests.inc();
    ep.sessions('connecting', 1);
    ep.circuit('half_open');
    ep.remove();
    expect(await m.registry.metrics()).not.toContain('smsc-2');
    expect(m.endpointMetrics('eu', 'smsc-2')).not.toBe(ep);
  });

  it('receipts and submit responses count by name, with peer-supplied values capped', async () => {
    const m = createMetrics({ defaultMetrics: false });
    const eu = m.clusterMetrics('eu');
    eu.receipt('DELIVRD');
    eu.receipt('DELIVRD');
    eu.dlrUnmatched.inc();
    m.submitResponse('ESME_ROK');
    for (let i = 0; i < MAX_PEER_LABEL_VALUES + 5; i++) m.submitResponse(`0x${i.toString(16).padStart(8, '0')}`);
    const text = await m.registry.metrics();
    expect(sample(text, 'smppd_dlr_received_total{cluster="eu",status="DELIVRD"}')).toBe(2);
    expect(sample(text, 'smppd_dlr_unmatched_total{cluster="eu"}')).toBe(1);
    expect(sample(text, 'smppd_submit_responses_total{status="ESME_ROK"}')).toBe(1);
    expect(sample(text, 'smppd_submit_responses_total{status="other"}')).toBe(6);
    expect(text.split('\n').filter((l) => l.startsWith('smppd_submit_responses_total{'))).toHaveLength(
      MAX_PEER_LABEL_VALUES + 1,
    );
  });
});
