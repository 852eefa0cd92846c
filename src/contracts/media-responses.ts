/** What the media routes answer, as OpenAI defines them (ImagesResponse, CreateTranscriptionResponse*). */
export interface WireImage {
  b64_json?: string;
  url?: string;
  revised_prompt?: string;
}

export interface ImagesResponse {
  created: number;
  data: WireImage[];
}

export interface TranscriptionJson {
  text: string;
  /** What was billed: the audio's length, in seconds. */
  usage: { type: 'duration'; seconds: number };
}

export interface TranscriptionVerboseJson {
  task: 'transcribe';
  language: string;
  duration: number;
  text: string;
  segments?: readonly Record<string, unknown>[];
  usage: { type: 'duration'; seconds: number };
}

/** GET /api/media/models: what the web app may offer beside chat. */
export interface WireMediaModels {
  /** Models that draw images, for the composer's "answer as image". */
  images: string[];
  /** The model that reads answers aloud, or null when none is served. */
  speech: string | null;
}
