// query_sm, cancel_sm, replace_sm (SPEC §4): the client names smppd's message id; the request goes to
// the cluster (and endpoint, when known) that holds the message, carrying the upstream's id, and the
// response comes back carrying smppd's id.
//
// An id smppd does not know, one that belongs to another client, or one whose message was never
// accepted upstream is ESME_RINVMSGID (SMPP 3.4 §5.1.3): a client learns nothing about other clients'
// messages. For a message that went upstream in several parts (submit_multi to several clusters) the
// record holds the last part's upstream id and cluster: that part is queried, cancelled or replaced.
// cancel_sm with an empty message_id (cancel by source/destination, SMPP 3.4 §4.9.1) would need every
// cluster: it is refused with ESME_RINVMSGID.

import { Status } from '../smpp/index.js';
import type { CancelSm, CancelSmResp, QuerySm, QuerySmResp, ReplaceSm, ReplaceSmResp } from '../smpp/index.js';
import type { MessageRecord } from '../store/store.js';
import type { ForwarderContext } from './context.js';
import { NO_FALLBACK, sendWithRetry } from './send.js';

type MessageOp = QuerySm | CancelSm | ReplaceSm;
type MessageOpResp = QuerySmResp | CancelSmResp | ReplaceSmResp;

function answer(req: MessageOp, status: number): MessageOpResp {
  const seq = req.sequence_number;
  switch (req.command) {
    case 'query_sm':
      // SMPP 3.4 §4.8.2: the queried id is echoed.
      return {
        command: 'query_sm_resp',
        command_status: status,
        sequence_number: seq,
        message_id: req.message_id,
        final_date: '',
        message_state: 0,
        error_code: 0,
      };
    case 'cancel_sm':
      return { command: 'cancel_sm_resp', command_status: status, sequence_number: seq };
    case 'replace_sm':
      return { command: 'replace_sm_resp', command_status: status, sequence_number: seq };
  }
}

export async function forwardMessageOp(
  ctx: ForwarderContext,
  client: string,
  req: MessageOp,
  deadline: number,
): Promise<MessageOpResp> {
  const smppdId = req.message_id;
  if (smppdId === '') return answer(req, Status.ESME_RINVMSGID);
  let record: MessageRecord | undefined;
  try {
    record = await ctx.store.get(smppdId);
  } catch (err) {
    ctx.logger.warn({ err, command: req.command }, 'store failed to look a message up; answered ESME_RSYSERR');
    return answer(req, Status.ESME_RSYSERR);
  }
  if (record === undefined || record.client !== client || record.upstreamId === undefined) {
    return answer(req, Status.ESME_RINVMSGID);
  }
  const upstream: MessageOp = { ...req, message_id: record.upstreamId };
  const outcome = await sendWithRetry(ctx, record.cluster, NO_FALLBACK, upstream, deadline, undefined, record.endpoint);
  const resp = outcome.response;
  if (req.command === 'query_sm' && resp?.command === 'query_sm_resp') {
    return { ...resp, sequence_number: req.sequence_number, message_id: smppdId };
  }
  const out = answer(req, outcome.status);
  if (resp?.tlvs !== undefined && resp.command === out.command) out.tlvs = resp.tlvs;
  return out;
}
