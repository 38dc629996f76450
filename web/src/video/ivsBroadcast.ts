// The Amazon IVS Web Broadcast SDK (AWS mode only; loaded with a dynamic import through
// `sdk.ts`): a camera broadcast from the browser to the channel's ingest endpoint with its
// stream key, and real-time stage sessions (publish with a participant token, or watch with a
// subscribe-only one).

import IVSBroadcastClient, {
  LocalStageStream,
  Stage,
  StageConnectionState,
  StageEvents,
  SubscribeType,
  type StageParticipantInfo,
  type StageStrategy,
} from 'amazon-ivs-web-broadcast';

export function broadcastSupported(): boolean {
  return IVSBroadcastClient.isSupported();
}

/** Camera and microphone, as the broadcast and the stage want them. */
export async function openCamera(): Promise<MediaStream> {
  return navigator.mediaDevices.getUserMedia({
    video: { width: { ideal: 1280 }, height: { ideal: 720 }, frameRate: { ideal: 30, max: 30 } },
    audio: true,
  });
}

export function stopTracks(stream: MediaStream | null) {
  stream?.getTracks().forEach((t) => t.stop());
}

// ---------- low-latency broadcast to the channel ----------

export interface BroadcastHandle {
  /** Starts sending; rejects with the SDK's error (bad key, no connection…). */
  start(): Promise<void>;
  stop(): void;
  destroy(): void;
}

/**
 * A broadcast of `camera` to the channel: `channelType` picks the SDK's preset (BASIC channels
 * take up to 480p, STANDARD up to 1080p); `preview` shows what is sent.
 */
export async function createBroadcast(options: {
  camera: MediaStream;
  ingestEndpoint: string;
  streamKey: string;
  channelType: string;
  preview: HTMLCanvasElement;
  onState: (state: string) => void;
  onError: (message: string) => void;
}): Promise<BroadcastHandle> {
  const streamConfig = options.channelType.toUpperCase() === 'BASIC' ? IVSBroadcastClient.BASIC_LANDSCAPE : IVSBroadcastClient.STANDARD_LANDSCAPE;
  const client = IVSBroadcastClient.create({ streamConfig, ingestEndpoint: options.ingestEndpoint });
  // The SDK types its listeners as taking no arguments; they receive the payloads its docs name.
  const onState = (state: unknown) => options.onState(String(state));
  const onError = (error: unknown) => options.onError(error instanceof Error ? error.message : String(error));
  client.on(IVSBroadcastClient.BroadcastClientEvents.CONNECTION_STATE_CHANGE, onState as () => void);
  client.on(IVSBroadcastClient.BroadcastClientEvents.ERROR, onError as () => void);
  const { width, height } = streamConfig.maxResolution;
  await client.addVideoInputDevice(options.camera, 'camera', { index: 0, x: 0, y: 0, width, height });
  if (options.camera.getAudioTracks().length) await client.addAudioInputDevice(options.camera, 'microphone');
  client.attachPreview(options.preview);
  return {
    async start() {
      const result = await client.startBroadcast(options.streamKey);
      if (result instanceof Error) throw result;
    },
    stop: () => client.stopBroadcast(),
    destroy: () => {
      try {
        client.stopBroadcast();
      } catch {
        // not started
      }
      client.detachPreview();
      client.delete();
    },
  };
}

// ---------- real-time stages ----------

export interface RemoteParticipant {
  id: string;
  userId: string;
  /** The participant's media, for a <video> element. */
  stream: MediaStream;
}

export interface StageHandle {
  leave(): void;
  setMuted(kind: 'audio' | 'video', muted: boolean): void;
}

export type StageState = 'connecting' | 'connected' | 'disconnected' | 'errored';

/**
 * Joins a stage with `token`. With a `camera` the local participant publishes it (a publish
 * token); without, it only watches (a spectator token). Everyone else's media arrives through
 * `onParticipants`.
 */
export async function joinStage(options: {
  token: string;
  camera: MediaStream | null;
  onState: (state: StageState) => void;
  onParticipants: (participants: RemoteParticipant[]) => void;
}): Promise<StageHandle> {
  const local = options.camera
    ? [
        ...options.camera.getVideoTracks().map((t) => new LocalStageStream(t, { maxVideoBitrateKbps: 2500, maxFramerate: 30, simulcast: { enabled: true } })),
        ...options.camera.getAudioTracks().map((t) => new LocalStageStream(t, { maxAudioBitrateKbps: 128 })),
      ]
    : [];
  const strategy: StageStrategy = {
    stageStreamsToPublish: () => local,
    shouldPublishParticipant: () => local.length > 0,
    shouldSubscribeToParticipant: () => SubscribeType.AUDIO_VIDEO,
  };
  const stage = new Stage(options.token, strategy);
  const remote = new Map<string, RemoteParticipant>();
  const publish = () => options.onParticipants([...remote.values()]);

  stage.on(StageEvents.STAGE_CONNECTION_STATE_CHANGED, (state: StageConnectionState) => {
    options.onState(
      state === StageConnectionState.CONNECTED ? 'connected' : state === StageConnectionState.CONNECTING ? 'connecting' : state === StageConnectionState.ERRORED ? 'errored' : 'disconnected',
    );
  });
  stage.on(StageEvents.STAGE_PARTICIPANT_STREAMS_ADDED, (participant: StageParticipantInfo, streams) => {
    if (participant.isLocal) return;
    const entry = remote.get(participant.id) ?? { id: participant.id, userId: participant.userId, stream: new MediaStream() };
    for (const s of streams) entry.stream.addTrack(s.mediaStreamTrack);
    remote.set(participant.id, entry);
    publish();
  });
  stage.on(StageEvents.STAGE_PARTICIPANT_STREAMS_REMOVED, (participant: StageParticipantInfo, streams) => {
    const entry = remote.get(participant.id);
    if (!entry) return;
    for (const s of streams) entry.stream.removeTrack(s.mediaStreamTrack);
    if (entry.stream.getTracks().length === 0) remote.delete(participant.id);
    publish();
  });
  stage.on(StageEvents.STAGE_PARTICIPANT_LEFT, (participant: StageParticipantInfo) => {
    if (remote.delete(participant.id)) publish();
  });

  options.onState('connecting');
  await stage.join();
  return {
    leave: () => stage.leave(),
    setMuted(kind, muted) {
      for (const s of local) if (s.streamType === kind) s.setMuted(muted);
    },
  };
}
