#!/usr/bin/env bash
# Runs in the 6.12 guest booted by OVMF with fresh variables (setup mode): appends the test
# certificate to UEFI's db, from which the kernel fills its .platform keyring on the next boot.
set -euo pipefail
cert=${1:?usage: enroll.sh CERT.pem}
mountpoint -q /sys/firmware/efi/efivars || mount -t efivarfs efivarfs /sys/firmware/efi/efivars
cert-to-efi-sig-list -g 6b6e7e9a-3c1d-4f7e-9a57-77617264766d "$cert" /scratch/db.esl
efi-updatevar -e -f /scratch/db.esl db
echo "enrolled $(openssl x509 -noout -subject -in "$cert")"
