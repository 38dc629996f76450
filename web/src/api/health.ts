// Stream health: the signed-in streamer's own stream sessions (`/api/me/stream-sessions`).

import { api } from './client';

/** A stream session in the list. */
export interface SessionSummary {
  /** IVS's stream id (`st-…`). */
  stream_id: string;
  started_at: string;
  /** `null` while not over. */
  ended_at?: string | null;
  live: boolean;
  /** When the stream started, while live. */
  live_since?: string | null;
  /** False while starving (the last health event is a "Starvation Start"). */
  healthy: boolean;
  /** True once a limit (bitrate, resolution…) was breached. */
  has_error: boolean;
}

export interface SessionList {
  /** Newest first. */
  sessions: SessionSummary[];
  /** Pass as `cursor` for the next page; absent on the last page. */
  next_cursor?: string | null;
}

export interface SessionEvent {
  /** EventBridge's event id. */
  id: string;
  /** The IVS event type, e.g. `IVS Stream Health Change`. */
  type: string;
  /** e.g. `Starvation Start`, `Ingest Bitrate`, `Recording End`. */
  name: string;
  time: string;
}

export interface IngestConfiguration {
  video: {
    avc_level: string;
    avc_profile: string;
    codec: string;
    encoder: string;
    /** Bits per second. */
    target_bitrate: number;
    target_framerate: number;
    video_height: number;
    video_width: number;
  };
  audio: {
    channels: number;
    codec: string;
    /** Hertz. */
    sample_rate: number;
    /** Bits per second. */
    target_bitrate: number;
  };
}

/**
 * One chart: `data[i]` is the value at `aligned_start + i × period`, `null` where there is none.
 * Rate charts (bitrate, frame rate) have the gaps between two values filled by the server.
 */
export interface MetricSeries {
  /** `IngestVideoBitrate` (bits/s), `IngestFramerate` (frames/s), `KeyframeInterval` (s) or `ConcurrentViews`. */
  name: string;
  /** Seconds between points: 5, 60, 300 or 3600. */
  period: number;
  aligned_start: string;
  data: (number | null)[];
  /** The average of the values there are (before filling); `null` without any. */
  average?: number | null;
}

export interface SessionDetail extends SessionSummary {
  /** In the order they happened. */
  events: SessionEvent[];
  ingest_configuration?: IngestConfiguration | null;
  /** Bitrate, frame rate, keyframe interval and concurrent views, in that order. */
  metrics: MetricSeries[];
}

export const PAGE_SIZE = 20;

export const health = {
  sessions: (cursor?: string | null, signal?: AbortSignal) =>
    api.get<SessionList>(`/api/me/stream-sessions?limit=${PAGE_SIZE}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, { signal }),
  session: (streamId: string, signal?: AbortSignal) => api.get<SessionDetail>(`/api/me/stream-sessions/${encodeURIComponent(streamId)}`, { signal }),
};
