import { responseNameOf } from './commands.js';
import type { GenericNack, Pdu, RequestPdu, ResponseBody, ResponsePduOf } from './pdu.js';

/**
 * The response to `req` with the same sequence_number (SMPP 3.4 §3.2). Body fields default to empty
 * values (message_id '', system_id '', no unsuccess_smes); query_sm_resp echoes the queried message_id.
 * With a non-zero status and default body the encoder sends a bare header, as SMPP 3.4 §4.x asks.
 */
export function responseFor<R extends RequestPdu>(
  req: R,
  status: number,
  body?: Partial<ResponseBody<R>>,
): ResponsePduOf<R> {
  const command = responseNameOf(req.command);
  if (req.command === 'submit_sm' || req.command === 'deliver_sm' || req.command === 'data_sm') {
    // The per-message responses, built with one fixed shape instead of three spreads (bench: `npm run
    // bench`; every submit_sm at the simulator and every receipt at smppd): their body is
    // message_id and tlvs (ResponseBody), so this is the same object.
    const b = body as { message_id?: string; tlvs?: unknown } | undefined;
    const resp = { command, command_status: status, sequence_number: req.sequence_number, message_id: b?.message_id ?? '' };
    if (b?.tlvs !== undefined) (resp as { tlvs?: unknown }).tlvs = b.tlvs;
    return resp as Pdu as ResponsePduOf<R>;
  }
  const base = { command, command_status: status, sequence_number: req.sequence_number };
  let defaults: object;
  switch (req.command) {
    case 'bind_transmitter':
    case 'bind_receiver':
    case 'bind_transceiver':
      defaults = { system_id: '' };
      break;
    case 'submit_multi':
      defaults = { message_id: '', unsuccess_smes: [] };
      break;
    case 'query_sm':
      defaults = { message_id: req.message_id, final_date: '', message_state: 0, error_code: 0 };
      break;
    default:
      defaults = {};
  }
  return { ...base, ...defaults, ...body } as Pdu as ResponsePduOf<R>;
}

/** SMPP 3.4 §4.3: generic_nack, for PDUs that cannot be answered with their own response. */
export function genericNack(sequence_number: number, status: number): GenericNack {
  return { command: 'generic_nack', command_status: status, sequence_number };
}
