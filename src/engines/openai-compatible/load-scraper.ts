/**
 * Scrapes an inference server's Prometheus endpoint on an interval and keeps the last
 * reading with its age. A reading older than `staleAfterMs` is not used for decisions
 * (the scheduler falls back to Skylark's own counts) but is still shown, with its age.
 */
import { request } from 'undici';
import { parsePrometheusText, reportedLoad, type EngineReportedLoad } from './load-metrics.js';

export interface LoadScraperOptions {
  url: string;
  intervalMs: number;
  /** Requests this engine has in flight now: subtracted from the server's count. */
  ownBusy(): number;
  now?: () => number;
}

export interface LoadReading {
  load: EngineReportedLoad;
  /** When the reading arrived (ms since the epoch). */
  at: number;
  /** Skylark's own in-flight count at that moment, to tell its traffic from others'. */
  ownBusyAtScrape: number;
}

/** What /admin/engines shows about the scrape. */
export interface ScrapeStatus {
  url: string;
  intervalMs: number;
  /** Age of the last good reading; null before the first. */
  ageMs: number | null;
  stale: boolean;
  reading: EngineReportedLoad | null;
  lastError: string | null;
}

export class LoadScraper {
  private latest: LoadReading | undefined;
  private lastError: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private scraping: Promise<void> | undefined;
  private readonly now: () => number;
  /** Three missed intervals (and at least 3 s) before a reading stops counting. */
  readonly staleAfterMs: number;

  constructor(private readonly options: LoadScraperOptions) {
    this.now = options.now ?? Date.now;
    this.staleAfterMs = Math.max(3000, options.intervalMs * 3);
  }

  start(): void {
    if (this.timer !== undefined) return;
    void this.scrape();
    this.timer = setInterval(() => void this.scrape(), this.options.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One scrape now (a scrape already running is joined, never doubled). */
  scrape(): Promise<void> {
    this.scraping ??= this.scrapeOnce().finally(() => (this.scraping = undefined));
    return this.scraping;
  }

  /** The last reading, if fresh enough to act on. */
  fresh(): LoadReading | undefined {
    const latest = this.latest;
    return latest !== undefined && this.now() - latest.at <= this.staleAfterMs ? latest : undefined;
  }

  status(): ScrapeStatus {
    const ageMs = this.latest === undefined ? null : this.now() - this.latest.at;
    return {
      url: this.options.url,
      intervalMs: this.options.intervalMs,
      ageMs,
      stale: this.fresh() === undefined,
      reading: this.latest?.load ?? null,
      lastError: this.lastError ?? null,
    };
  }

  private async scrapeOnce(): Promise<void> {
    const timeout = Math.max(250, this.options.intervalMs);
    try {
      const response = await request(this.options.url, { headersTimeout: timeout, bodyTimeout: timeout });
      const text = await response.body.text();
      if (response.statusCode !== 200) throw new Error(`HTTP ${response.statusCode}`);
      const load = reportedLoad(parsePrometheusText(text), this.latest?.load);
      if (load === undefined) throw new Error('no vLLM or SGLang load metrics in the answer');
      this.latest = { load, at: this.now(), ownBusyAtScrape: this.options.ownBusy() };
      this.lastError = undefined;
    } catch (error) {
      this.lastError = (error as Error).message;
    }
  }
}
