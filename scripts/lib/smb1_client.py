#!/usr/bin/python3
"""An SMB1 (NT LM 0.12) client on impacket that does what Samba's smbclient
does not: DCE/RPC over named pipes in WRITE_ANDX and READ_ANDX (srvsvc's
share list and server information, a request cut into fragments,
wkssvc's workstation information, lsarpc's policy), and TRANS2
SET_FILE_INFO and SET_PATH_INFO with the pass-through levels a Windows
client uses to delete (FileDispositionInformation, 1013) and rename
(FileRenameInformation, 1010). It makes real traffic for the parser's
tests (scripts/make-smb1-pipe-capture.sh). Debian's python3-impacket.

Usage: smb1_client.py HOST USER PASSWORD SHARE
"""

import struct
import sys

from impacket import smb
from impacket.dcerpc.v5 import lsad, srvs, transport, wkst
from impacket.smbconnection import SMBConnection

PASSTHRU_DISPOSITION = 1013
PASSTHRU_RENAME = 1010


def rpc(conn, host, pipe, iface, calls, max_frag=0):
    t = transport.SMBTransport(host, filename=pipe, smb_connection=conn)
    dce = t.get_dce_rpc()
    if max_frag:
        dce.set_max_fragment_size(max_frag)
    dce.connect()
    dce.bind(iface)
    for call in calls:
        call(dce)
    dce.disconnect()


def trans2(conn, tid, subcommand, param, data):
    """A TRANS2 request laid out as Windows lays it out: the name byte and
    padding put the parameters at offset 68, the data 4-byte aligned."""
    s = conn.getSMBServer()
    pkt = smb.NewSMBPacket()
    pkt['Tid'] = tid
    cmd = smb.SMBCommand(smb.SMB.SMB_COM_TRANSACTION2)
    cmd['Parameters'] = smb.SMBTransaction2_Parameters()
    cmd['Parameters']['MaxDataCount'] = 4096
    cmd['Parameters']['Setup'] = struct.pack('<H', subcommand)
    cmd['Parameters']['TotalParameterCount'] = len(param)
    cmd['Parameters']['TotalDataCount'] = len(data)
    cmd['Parameters']['ParameterCount'] = len(param)
    cmd['Parameters']['ParameterOffset'] = 68
    pad2 = (4 - (68 + len(param)) % 4) % 4
    cmd['Parameters']['DataCount'] = len(data)
    cmd['Parameters']['DataOffset'] = 68 + len(param) + pad2
    cmd['Data'] = smb.SMBTransaction2_Data()
    cmd['Data']['Pad1'] = b'\x00\x00\x00'
    cmd['Data']['Trans_Parameters'] = param
    cmd['Data']['Pad2'] = b'\x00' * pad2
    cmd['Data']['Trans_Data'] = data
    pkt.addCommand(cmd)
    s.sendSMB(pkt)
    resp = s.recvSMB()
    return resp['ErrorCode'] << 16 | resp['_reserved'] << 8 | resp['ErrorClass']


def utf16z(name):
    return name.encode('utf-16-le') + b'\x00\x00'


def rename_info(new_name):
    n = new_name.encode('utf-16-le')
    return struct.pack('<B3xII', 0, 0, len(n)) + n


def main():
    host, user, password, share = sys.argv[1:5]
    conn = SMBConnection(host, host, preferredDialect=smb.SMB_DIALECT)
    conn.login(user, password)

    rpc(conn, host, r'\srvsvc', srvs.MSRPC_UUID_SRVS, [
        lambda d: srvs.hNetrShareEnum(d, 1),
        lambda d: srvs.hNetrServerGetInfo(d, 102),
    ])
    # A request in fragments of 8 stub bytes, each its own WRITE_ANDX.
    rpc(conn, host, r'\srvsvc', srvs.MSRPC_UUID_SRVS, [
        lambda d: srvs.hNetrShareGetInfo(d, 'data\x00', 1),
    ], max_frag=8)
    rpc(conn, host, r'\wkssvc', wkst.MSRPC_UUID_WKST, [
        lambda d: wkst.hNetrWkstaGetInfo(d, 100),
    ])
    rpc(conn, host, r'\lsarpc', lsad.MSRPC_UUID_LSAD, [
        lambda d: lsad.hLsarClose(d, lsad.hLsarOpenPolicy2(d)['PolicyHandle']),
    ])

    tid = conn.connectTree(share)
    for name in ('gone1.txt', 'old1.txt'):
        fid = conn.createFile(tid, name)
        conn.writeFile(tid, fid, b'flowscope smb1 trans2 test\n')
        conn.closeFile(tid, fid)
    # Delete by handle: SET_FILE_INFO, FileDispositionInformation.
    fid = conn.openFile(tid, 'gone1.txt', desiredAccess=0x00010000 | 0x80)
    print('set_file_info disposition', hex(trans2(
        conn, tid, 0x0008, struct.pack('<HHH', fid, PASSTHRU_DISPOSITION, 0), b'\x01')))
    conn.closeFile(tid, fid)
    # Rename by handle: SET_FILE_INFO, FileRenameInformation.
    fid = conn.openFile(tid, 'old1.txt', desiredAccess=0x00010000 | 0x80)
    print('set_file_info rename', hex(trans2(
        conn, tid, 0x0008, struct.pack('<HHH', fid, PASSTHRU_RENAME, 0), rename_info('new1.txt'))))
    conn.closeFile(tid, fid)
    # The same two by path: SET_PATH_INFO.
    print('set_path_info rename', hex(trans2(
        conn, tid, 0x0006, struct.pack('<HI', PASSTHRU_RENAME, 0) + utf16z('new1.txt'),
        rename_info('new2.txt'))))
    print('set_path_info disposition', hex(trans2(
        conn, tid, 0x0006, struct.pack('<HI', PASSTHRU_DISPOSITION, 0) + utf16z('new2.txt'), b'\x01')))
    try:
        conn.deleteFile(share, 'new2.txt')
    except Exception:
        pass
    conn.disconnectTree(tid)
    conn.logoff()
    print('smb1 client done')


if __name__ == '__main__':
    main()
