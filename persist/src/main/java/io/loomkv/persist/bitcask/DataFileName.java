package io.loomkv.persist.bitcask;

/**
 * File names, fixed-width hex ids so that a plain sort orders them. Ids come from one counter for
 * every kind, so an id names one file. {@code .data}: appended by the writer (the highest is the
 * active file); {@code .merged}: written whole by a merge; {@code .hint}: the key index of the
 * {@code .merged} file with the same id; {@code .commit}: a merge's commit record, named by the
 * merge's own id.
 */
record DataFileName(long id, Kind kind) implements Comparable<DataFileName> {
    enum Kind {
        DATA(".data"), MERGED(".merged"), HINT(".hint"), COMMIT(".commit");

        final String suffix;

        Kind(String suffix) {
            this.suffix = suffix;
        }
    }

    static final String TMP_SUFFIX = ".tmp";

    DataFileName {
        if (id < 0) {
            throw new IllegalArgumentException("file id must be >= 0, got " + id);
        }
    }

    String fileName() {
        return String.format("%016x%s", id, kind.suffix);
    }

    DataFileName withKind(Kind other) {
        return new DataFileName(id, other);
    }

    /** The name, or null for a file that is not ours (or a temporary one). */
    static DataFileName parse(String fileName) {
        for (Kind kind : Kind.values()) {
            if (fileName.length() == 16 + kind.suffix.length() && fileName.endsWith(kind.suffix)) {
                try {
                    return new DataFileName(Long.parseUnsignedLong(fileName.substring(0, 16), 16), kind);
                } catch (IllegalArgumentException e) {
                    return null;
                }
            }
        }
        return null;
    }

    @Override
    public int compareTo(DataFileName other) {
        int byId = Long.compare(id, other.id);
        return byId != 0 ? byId : kind.compareTo(other.kind);
    }
}
