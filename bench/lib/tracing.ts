/**
 * Tracing for the bench server: `noop` traces with no provider registered; `sdk` registers a
 * BasicTracerProvider (always-on sampling, batch processor) whose exporter drops every batch, so
 * the row measures span creation and processing, not an exporter's I/O.
 */
import { trace } from '@opentelemetry/api';
import { BasicTracerProvider, BatchSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { Supervisor } from '../../src/supervisor.js';
import { traceSupervisor } from '../../src/observability/tracing.js';

const dropping: SpanExporter = {
  export: (_spans, done) => done({ code: 0 }),
  shutdown: () => Promise.resolve(),
};

export function startBenchTracing(supervisor: Supervisor, mode: string | undefined): void {
  if (mode === 'sdk') {
    trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(dropping)] }));
  } else if (mode !== 'noop') {
    throw new Error(`--tracing must be noop or sdk (got ${String(mode)})`);
  }
  traceSupervisor(supervisor);
}
