#!/usr/bin/perl
# An SMSC that is not Node: Net::SMPP's server side (Debian's libnet-smpp-perl, new_listen) takes
# one connection, smppd's upstream session, and answers it as an SMSC would: its bind, each
# submit_sm with a lowercase hex id, then that message's receipt as TLVs only (receipted_message_id
# and message_state, empty short_message), enquire_link, and unbind, after which it exits.
# Prints one `key=value` line per fact for the test to parse (e2e/interop-perl-smsc.test.ts);
# the first is the port it listens on.
#
# usage: smsc.pl   (listens on 127.0.0.1, a free port)
use strict;
use warnings;
use Net::SMPP;

$| = 1;
# Never outlive the test: give up after 30 s.
$SIG{ALRM} = sub { print "error=timeout\n"; exit 3 };
alarm 30;

my $listener = Net::SMPP->new_listen('127.0.0.1', port => 0, async => 1)
    or die "error=listen failed\n";
print "port=", $listener->sockport, "\n";
my $smsc = $listener->accept or die "error=accept failed\n";

my $submits = 0;
while (my $pdu = $smsc->read_pdu()) {
    my $cmd = $pdu->{cmd};
    if ($cmd == Net::SMPP::CMD_bind_transceiver) {
        print "bind_system_id=$pdu->{system_id}\n";
        print "bind_password=$pdu->{password}\n";
        $smsc->bind_transceiver_resp(seq => $pdu->{seq}, system_id => 'PERLSMSC');
    } elsif ($cmd == Net::SMPP::CMD_submit_sm) {
        my $id = sprintf('%x', 0xbeef00 + $submits++);
        $smsc->submit_sm_resp(seq => $pdu->{seq}, message_id => $id);
        print "submit=$id $pdu->{short_message}\n";
        # async: the deliver_sm_resp comes back through read_pdu.
        $smsc->deliver_sm(
            source_addr          => $pdu->{destination_addr},
            destination_addr     => $pdu->{source_addr},
            esm_class            => 0x04,
            short_message        => '',
            receipted_message_id => "$id\0",
            message_state        => pack('C', 2),
            async                => 1,
        );
    } elsif ($cmd == Net::SMPP::CMD_deliver_sm_resp) {
        print "deliver_sm_resp=$pdu->{status}\n";
    } elsif ($cmd == Net::SMPP::CMD_enquire_link) {
        $smsc->enquire_link_resp(seq => $pdu->{seq});
    } elsif ($cmd == Net::SMPP::CMD_unbind) {
        $smsc->unbind_resp(seq => $pdu->{seq});
        print "unbound=1\n";
        last;
    } else {
        print "other_cmd=", sprintf('0x%08x', $cmd), "\n";
    }
}
print "done=1\n";
exit 0;
