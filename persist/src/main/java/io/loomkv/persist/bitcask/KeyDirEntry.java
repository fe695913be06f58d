package io.loomkv.persist.bitcask;

/**
 * Where the latest record of a key lives: the paper's keydir value (file id, value position, value
 * size, timestamp), pointing at the whole record so that one positioned read fetches and checks it.
 * About 40 bytes on the heap, plus the key and the map's node.
 */
record KeyDirEntry(long fileId, long offsetBytes, int recordBytes, long sequence) {
    /** A view's before-image for a key that did not exist when the view was taken. */
    static final KeyDirEntry ABSENT = new KeyDirEntry(-1, -1, 0, -1);

    boolean sameRecord(KeyDirEntry other) {
        return other != null && fileId == other.fileId && offsetBytes == other.offsetBytes;
    }
}
