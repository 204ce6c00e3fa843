/* SPDX-License-Identifier: GPL-2.0 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM kvm_fastpath

#if !defined(KFP_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define KFP_TRACE_H

#include <linux/tracepoint.h>

/*
 * One event per exit a fast-path handler completed.  @info is the exit's
 * detail: the port for IO, the leaf for CPUID, the GPA for EPT.
 */
TRACE_EVENT(kvm_fastpath,
	    TP_PROTO(unsigned int vcpu_id, u32 reason, int verdict, u64 info),
	    TP_ARGS(vcpu_id, reason, verdict, info),
	    TP_STRUCT__entry(__field(unsigned int, vcpu_id)
			     __field(u32, reason)
			     __field(int, verdict)
			     __field(u64, info)),
	    TP_fast_assign(__entry->vcpu_id = vcpu_id;
			   __entry->reason = reason;
			   __entry->verdict = verdict;
			   __entry->info = info;),
	    TP_printk("vcpu %u reason %u info 0x%llx %s", __entry->vcpu_id,
		      __entry->reason, __entry->info,
		      __entry->verdict == 1 ? "reenter" : "done")
);

#endif /* KFP_TRACE_H */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE kfp_trace
#include <trace/define_trace.h>
