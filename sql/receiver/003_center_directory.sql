-- Receiver schema v3: where each centre's images can be retrieved from. The index holds no images;
-- a centre registers its own DICOMweb base and PACS AE title (`indexer-receiver centers set`), and
-- the read interfaces (QIDO-RS RetrieveURL, FHIR Endpoint, C-FIND RetrieveAETitle) point there.
-- Plain ALTER only (TiDB/Vitess compatible); re-runnable (an existing column counts as done).

ALTER TABLE centers ADD COLUMN dicomweb_url VARCHAR(1024) CHARACTER SET ascii COLLATE ascii_bin NULL;

ALTER TABLE centers ADD COLUMN retrieve_aet VARCHAR(16) CHARACTER SET ascii COLLATE ascii_bin NULL;
