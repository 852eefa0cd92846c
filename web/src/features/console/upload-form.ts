/**
 * The state of a console form that sends one chosen file (the Files page's upload, the
 * Batches page's "create batch"): the file picked, the last success to show, the working
 * flag and error of the action. After a success the form is remounted (`formKey`) so the
 * file input, which React cannot clear, starts empty again.
 */
import { useState, type ChangeEvent, type FormEvent } from 'react';
import { useAction } from './console-ui.js';

export interface UploadForm<R> {
  /** The form's `key`: changes after each success. */
  formKey: number;
  /** What the last success answered, until the next submit. */
  done: R | null;
  working: boolean;
  error: unknown;
  /** Submit is possible: a file is chosen and nothing is running. */
  ready: boolean;
  onFileChange: (event: ChangeEvent<HTMLInputElement>) => void;
  onSubmit: (event: FormEvent<HTMLFormElement>) => void;
}

/** `send` does the form's work with the file chosen; `onDone` runs after it succeeded. */
export function useUploadForm<R>(send: (file: File) => Promise<R>, onDone: () => void): UploadForm<R> {
  const [file, setFile] = useState<File | null>(null);
  const [done, setDone] = useState<R | null>(null);
  const [formKey, setFormKey] = useState(0);
  const { working, error, run } = useAction();
  return {
    formKey,
    done,
    working,
    error,
    ready: !working && file !== null,
    onFileChange: (event) => setFile(event.target.files?.[0] ?? null),
    onSubmit: (event) => {
      event.preventDefault();
      if (!file) return;
      setDone(null);
      void run(async () => {
        const answer = await send(file);
        setDone(() => answer); // a function would be taken for an updater
        setFile(null);
        setFormKey((k) => k + 1);
        onDone();
      });
    },
  };
}
