#!/usr/bin/perl
# A client that is not Node sends one long message as three submit_sm parts tied together by SAR
# TLVs (sar_msg_ref_num, sar_total_segments, sar_segment_seqnum: SMPP 3.4 §5.3.2.22-24), the way
# some ESMEs concatenate instead of a UDH. Net::SMPP (Debian's libnet-smpp-perl) binds as a
# transmitter, submits the parts in a row and unbinds. Prints one `key=value` line per fact for
# the test to parse (e2e/interop-perl.test.ts).
#
# usage: submit-sar-parts.pl HOST PORT SYSTEM_ID PASSWORD DESTINATION REF
use strict;
use warnings;
use Net::SMPP;

$| = 1;
my ($host, $port, $system_id, $password, $destination, $ref) = @ARGV;
die "usage: $0 HOST PORT SYSTEM_ID PASSWORD DESTINATION REF\n" unless defined $ref;

# Never hang the test: give up after 20 s.
$SIG{ALRM} = sub { print "error=timeout\n"; exit 3 };
alarm 20;

my ($smpp, $bind_resp) = Net::SMPP->new_transmitter(
    $host,
    port      => $port,
    system_id => $system_id,
    password  => $password,
);
die "error=connect failed\n" unless defined $smpp;
print "bind_status=", $bind_resp->{status}, "\n";
exit 1 if $bind_resp->{status} != 0;

my @parts = ('part one of three, ', 'part two of three, ', 'part three of three.');
for my $i (0 .. $#parts) {
    my $resp = $smpp->submit_sm(
        source_addr         => '258840000099',
        destination_addr    => $destination,
        short_message       => $parts[$i],
        sar_msg_ref_num     => pack('n', $ref),
        sar_total_segments  => pack('C', scalar @parts),
        sar_segment_seqnum  => pack('C', $i + 1),
    ) or die "error=submit_sm: " . ${*$smpp}{smpperror} . "\n";
    print "part_status=", $resp->{status}, "\n";
    print "part_id=", $resp->{message_id}, "\n";
}

my $unbind = $smpp->unbind();
print "unbind_status=", (defined $unbind ? $unbind->{status} : 'none'), "\n";
print "done=1\n";
exit 0;
