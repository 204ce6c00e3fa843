/* SPDX-License-Identifier: GPL-2.0 */
/* Real-mode (16-bit) build of the test guest in guest_body.S. */
#define KFP_MODE	real
#define KFP_CODE	.code16
#define KFP_BITS	16
#include "guest_body.S"
