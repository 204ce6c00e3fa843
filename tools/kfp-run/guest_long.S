/* SPDX-License-Identifier: GPL-2.0 */
/* Long-mode (64-bit, identity-mapped) build of the test guest in guest_body.S. */
#define KFP_MODE	long
#define KFP_CODE	.code64
#define KFP_BITS	64
#include "guest_body.S"
