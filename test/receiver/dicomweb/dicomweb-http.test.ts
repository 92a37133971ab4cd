import { describe, expect, it } from 'vitest';
import { acceptsDicomJson } from '../../../src/receiver/dicomweb/dicomweb-http.js';

describe('Accept negotiation', () => {
  it.each([
    undefined, '', '   ', 'application/dicom+json', 'application/json', '*/*', 'application/*', 'APPLICATION/DICOM+JSON',
    'application/dicom+json; charset=utf-8', 'multipart/related; type="application/dicom+xml", application/dicom+json;q=0.5',
    'text/html, */*;q=0.1', ['text/html', 'application/json'],
  ])('serves %j', (accept) => {
    expect(acceptsDicomJson(accept)).toBe(true);
  });

  it.each([
    'multipart/related; type="application/dicom+xml"', 'application/dicom+xml', 'text/html', 'image/jpeg', 'application/json;q=0',
    '*/*; q=0.0', 'garbage', '%%%', ';;;', ',', 'multipart/related; type="application/dicom+json, */*"', 'x'.repeat(8000),
  ])('refuses %j', (accept) => {
    expect(acceptsDicomJson(accept)).toBe(false);
  });
});
