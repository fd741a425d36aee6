#!/usr/bin/perl
# A client that is not Node (issue 3 acceptance): Net::SMPP (Debian's libnet-smpp-perl) binds as a
# transceiver, submits one message asking for a receipt, waits for the receipt and unbinds.
# Prints one `key=value` line per fact for the test to parse (e2e/interop-perl.test.ts).
#
# usage: submit-and-wait-receipt.pl HOST PORT SYSTEM_ID PASSWORD DESTINATION
use strict;
use warnings;
use Net::SMPP;

$| = 1;
my ($host, $port, $system_id, $password, $destination) = @ARGV;
die "usage: $0 HOST PORT SYSTEM_ID PASSWORD DESTINATION\n" unless defined $destination;

# Never hang the test: give up after 20 s.
$SIG{ALRM} = sub { print "error=timeout\n"; exit 3 };
alarm 20;

my ($smpp, $bind_resp) = Net::SMPP->new_transceiver(
    $host,
    port      => $port,
    system_id => $system_id,
    password  => $password,
);
die "error=connect failed\n" unless defined $smpp;
print "bind_status=", $bind_resp->{status}, "\n";
print "bind_system_id=", $bind_resp->{system_id}, "\n";
exit 1 if $bind_resp->{status} != 0;

my $resp = $smpp->submit_sm(
    source_addr_ton     => 1,
    source_addr_npi     => 1,
    source_addr         => '258840000099',
    dest_addr_ton       => 1,
    dest_addr_npi       => 1,
    destination_addr    => $destination,
    registered_delivery => 1,
    short_message       => 'hello from perl',
) or die "error=submit_sm: " . ${*$smpp}{smpperror} . "\n";
print "submit_status=", $resp->{status}, "\n";
print "message_id=", $resp->{message_id}, "\n";

# Read until the deliver_sm (the receipt) arrives; answer enquire_link on the way.
while (1) {
    my $pdu = $smpp->read_pdu() or die "error=read_pdu: " . ${*$smpp}{smpperror} . "\n";
    if ($pdu->{cmd} == Net::SMPP::CMD_enquire_link) {
        $smpp->enquire_link_resp(seq => $pdu->{seq});
        next;
    }
    if ($pdu->{cmd} == Net::SMPP::CMD_deliver_sm) {
        $smpp->deliver_sm_resp(seq => $pdu->{seq}, message_id => '');
        my $tlv_id = $pdu->{receipted_message_id};
        $tlv_id =~ s/\0+$// if defined $tlv_id;    # a C-Octet String TLV keeps its NUL
        print "receipt_esm_class=", $pdu->{esm_class}, "\n";
        print "receipt_text=", $pdu->{short_message}, "\n";
        print "receipt_tlv_id=", (defined $tlv_id ? $tlv_id : ''), "\n";
        last;
    }
    print "skipped_cmd=", sprintf('0x%08x', $pdu->{cmd}), "\n";
}

my $unbind = $smpp->unbind();
print "unbind_status=", (defined $unbind ? $unbind->{status} : 'none'), "\n";
print "done=1\n";
exit 0;
