/**
 * Fits the enrichment combiner in a worker thread: the cross-fitting trains two more text models
 * and scores thousands of held-out procedures, seconds of CPU that must not stall the API.
 * Receives the corpus, answers the fitted weight vector.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { Corpus } from './corpus';
import { EnrichmentEngine } from './engine';
import { loadPatterns } from './patterns';

if (parentPort) {
  const corpus = workerData as Corpus;
  parentPort.postMessage(EnrichmentEngine.build(corpus, loadPatterns()).weightVector());
}
