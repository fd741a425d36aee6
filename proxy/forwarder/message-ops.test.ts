import { afterEach, describe, expect, it } from 'vitest';
import type { ConfigInput } from '../config/schema.js';
import { Status } from '../smpp/index.js';
import type { CancelSm, QuerySm, QuerySmResp, ReplaceSm, SubmitSmResp } from '../smpp/index.js';
import { FakeCluster, harness, submitSm, type Harness } from './testing.js';

const cfg: ConfigInput = {
  clients: [
    { system_id: 'acme', password: 'x' },
    { system_id: 'beta', password: 'y' },
  ],
  clusters: [
    { name: 'voda', mock: {}, retry: { initial_backoff: '0ms' } },
    { name: 'mcel', mock: {} },
  ],
  routes: [{ name: 'all', cluster: 'voda', fallback: ['mcel'] }],
};

const acme = { systemId: 'acme' };
const far = () => Date.now() + 30_000;

let h: Harness | undefined;
afterEach(() => {
  h?.forwarder.close();
  h = undefined;
});

async function setupWithMessage(): Promise<{ hh: Harness; voda: FakeCluster; id: string }> {
  const voda: FakeCluster = new FakeCluster('voda', (pdu) => voda.accept(pdu, 'ep7'));
  const hh = harness({ config: cfg, clusters: [voda, new FakeCluster('mcel')] });
  h = hh;
  const resp = (await hh.forwarder.handleRequest(acme, submitSm(), { deadline: far() })) as SubmitSmResp;
  return { hh, voda, id: resp.message_id };
}

const query = (message_id: string): QuerySm => ({
  command: 'query_sm',
  command_status: 0,
  sequence_number: 31,
  message_id,
  source_addr_ton: 1,
  source_addr_npi: 1,
  source_addr: '258840000001',
});

describe('query_sm, cancel_sm, replace_sm', () => {
  it("query_sm reaches the message's endpoint with the upstream id and comes back with smppd's", async () => {
    const { hh, voda, id } = await setupWithMessage();
    const resp = (await hh.forwarder.handleRequest(acme, query(id), { deadline: far() })) as QuerySmResp;
    const sent = voda.calls[1]!;
    expect(sent.pdu).toMatchObject({ command: 'query_sm', message_id: 'A1' });
    expect(sent.opts.endpoint).toBe('ep7');
    expect(resp).toEqual({
      command: 'query_sm_resp',
      command_status: 0,
      sequence_number: 31,
      message_id: id,
      final_date: '',
      message_state: 2,
      error_code: 0,
    });
  });

  it('cancel_sm and replace_sm carry the upstream id and pass the upstream status back', async () => {
    const { hh, voda, id } = await setupWithMessage();
    const cancel: CancelSm = {
      command: 'cancel_sm',
      command_status: 0,
      sequence_number: 40,
      service_type: '',
      message_id: id,
      source_addr_ton: 1,
      source_addr_npi: 1,
      source_addr: '258840000001',
      dest_addr_ton: 1,
      dest_addr_npi: 1,
      destination_addr: '258841234567',
    };
    expect(await hh.forwarder.handleRequest(acme, cancel, { deadline: far() })).toEqual({
      command: 'cancel_sm_resp',
      command_status: 0,
      sequence_number: 40,
    });
    expect(voda.calls[1]!.pdu).toMatchObject({ command: 'cancel_sm', message_id: 'A1', destination_addr: '258841234567' });

    voda.handler = (pdu) => voda.refuse(pdu, Status.ESME_RREPLACEFAIL);
    const replace: ReplaceSm = {
      command: 'replace_sm',
      command_status: 0,
      sequence_number: 41,
      message_id: id,
      source_addr_ton: 1,
      source_addr_npi: 1,
      source_addr: '258840000001',
      schedule_delivery_time: '',
      validity_period: '',
      registered_delivery: 0,
      sm_default_msg_id: 0,
      short_message: Buffer.from('new text'),
    };
    expect(await hh.forwarder.handleRequest(acme, replace, { deadline: far() })).toEqual({
      command: 'replace_sm_resp',
      command_status: Status.ESME_RREPLACEFAIL,
      sequence_number: 41,
    });
    expect(voda.calls[2]!.pdu).toMatchObject({ command: 'replace_sm', message_id: 'A1' });
  });

  it("answers ESME_RINVMSGID for unknown ids and other clients' messages, sending nothing", async () => {
    const { hh, voda, id } = await setupWithMessage();
    for (const [client, messageId] of [
      [acme, 'nope'],
      [acme, ''],
      [{ systemId: 'beta' }, id],
    ] as const) {
      expect(await hh.forwarder.handleRequest(client, query(messageId), { deadline: far() })).toMatchObject({
        command: 'query_sm_resp',
        command_status: Status.ESME_RINVMSGID,
        sequence_number: 31,
        message_id: messageId,
      });
    }
    expect(voda.calls).toHaveLength(1);
  });

  it('does not go to a fallback cluster: the message is where it is', async () => {
    const { hh, voda, id } = await setupWithMessage();
    voda.up = false;
    expect(await hh.forwarder.handleRequest(acme, query(id), { deadline: far() })).toMatchObject({
      command_status: Status.ESME_RSYSERR,
    });
    expect(hh.clusters.get('mcel')!.calls).toHaveLength(0);
  });
});
