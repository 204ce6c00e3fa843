/* SPDX-License-Identifier: GPL-2.0 */
/* Protected-mode (32-bit, flat, no paging) build of the test guest in guest_body.S. */
#define KFP_MODE	prot
#define KFP_CODE	.code32
#define KFP_BITS	32
#include "guest_body.S"
