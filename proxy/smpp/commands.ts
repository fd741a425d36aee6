// SMPP 3.4 §5.1.2 command_id table (Table 5-1). Defined once; everything else derives from it.

export const CommandId = {
  generic_nack: 0x80000000,
  bind_receiver: 0x00000001,
  bind_receiver_resp: 0x80000001,
  bind_transmitter: 0x00000002,
  bind_transmitter_resp: 0x80000002,
  query_sm: 0x00000003,
  query_sm_resp: 0x80000003,
  submit_sm: 0x00000004,
  submit_sm_resp: 0x80000004,
  deliver_sm: 0x00000005,
  deliver_sm_resp: 0x80000005,
  unbind: 0x00000006,
  unbind_resp: 0x80000006,
  replace_sm: 0x00000007,
  replace_sm_resp: 0x80000007,
  cancel_sm: 0x00000008,
  cancel_sm_resp: 0x80000008,
  bind_transceiver: 0x00000009,
  bind_transceiver_resp: 0x80000009,
  outbind: 0x0000000b,
  enquire_link: 0x00000015,
  enquire_link_resp: 0x80000015,
  submit_multi: 0x00000021,
  submit_multi_resp: 0x80000021,
  alert_notification: 0x00000102,
  data_sm: 0x00000103,
  data_sm_resp: 0x80000103,
} as const;

export type CommandName = keyof typeof CommandId;
export type ResponseName = Extract<CommandName, `${string}_resp`>;
/** Every command that is not a response (outbind and alert_notification included). */
export type RequestName = Exclude<CommandName, ResponseName | 'generic_nack'>;
/** outbind (SMPP 3.4 §4.1.7) and alert_notification (§4.12) have no response PDU. */
export type UnansweredRequestName = 'outbind' | 'alert_notification';
export type AnsweredRequestName = Exclude<RequestName, UnansweredRequestName>;
export type ResponseNameOf<N extends RequestName> = N extends AnsweredRequestName ? `${N}_resp` : undefined;

const namesById = new Map<number, CommandName>(
  (Object.keys(CommandId) as CommandName[]).map((name) => [CommandId[name], name]),
);

export function commandNameOf(id: number): CommandName | undefined {
  return namesById.get(id);
}

/** SMPP 3.4 §5.1.2: bit 31 of command_id marks a response (generic_nack included). */
export function isResponseId(id: number): boolean {
  return (id & 0x80000000) !== 0;
}

export function isRequestName(name: CommandName): name is RequestName {
  return (CommandId[name] & 0x80000000) === 0;
}

export function expectsResponse(name: CommandName): name is AnsweredRequestName {
  return isRequestName(name) && name !== 'outbind' && name !== 'alert_notification';
}

/**
 * The commands that put a message on the air: submit_sm, data_sm, submit_multi (not query, cancel,
 * replace). What throughput limits count, what allowed_sources and throttle_pause look at.
 */
export function isSubmission(pdu: { readonly command: string }): boolean {
  return pdu.command === 'submit_sm' || pdu.command === 'data_sm' || pdu.command === 'submit_multi';
}

/** 'submit_sm' -> 'submit_sm_resp'; undefined for outbind and alert_notification, which are never answered. */
export function responseNameOf<N extends RequestName>(name: N): ResponseNameOf<N> {
  return (expectsResponse(name) ? `${name}_resp` : undefined) as ResponseNameOf<N>;
}
