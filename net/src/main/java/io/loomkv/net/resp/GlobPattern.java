package io.loomkv.net.resp;

import com.google.protobuf.ByteString;

/**
 * A Redis glob ({@code KEYS}, {@code SCAN MATCH}): {@code *}, {@code ?}, {@code [abc]},
 * {@code [^a]}, {@code [a-z]}, and {@code \} to take the next byte literally; matched on bytes, as
 * Redis's {@code stringmatchlen} does. The literal prefix before the first special byte lets a
 * scan read only the keys that can match.
 */
final class GlobPattern {
    private final byte[] pattern;

    GlobPattern(ByteString pattern) {
        this.pattern = pattern.toByteArray();
    }

    /** The bytes every matching key starts with. */
    ByteString literalPrefix() {
        int i = 0;
        while (i < pattern.length && pattern[i] != '*' && pattern[i] != '?' && pattern[i] != '[' && pattern[i] != '\\') {
            i++;
        }
        return ByteString.copyFrom(pattern, 0, i);
    }

    boolean matchesEverything() {
        return pattern.length == 1 && pattern[0] == '*';
    }

    /**
     * Iterative matching that backtracks to the last {@code *} only, which suffices for globs and
     * keeps the work at O(pattern x key) (recursive matching is exponential in the stars).
     */
    boolean matches(ByteString key) {
        byte[] s = key.toByteArray();
        int p = 0;
        int k = 0;
        int starP = -1;
        int starK = 0;
        while (k < s.length) {
            if (p < pattern.length && pattern[p] == '*') {
                starP = p++;
                starK = k;
            } else if (p < pattern.length && matchesOne(p, s[k])) {
                p = tokenEnd(p);
                k++;
            } else if (starP >= 0) {
                p = starP + 1;
                k = ++starK;
            } else {
                return false;
            }
        }
        while (p < pattern.length && pattern[p] == '*') {
            p++;
        }
        return p == pattern.length;
    }

    /** Whether the token at {@code p} (not a star) matches byte {@code b}. */
    private boolean matchesOne(int p, byte b) {
        return switch (pattern[p]) {
            case '?' -> true;
            case '[' -> inClass(p + 1, classEnd(p), b);
            case '\\' -> p + 1 < pattern.length ? pattern[p + 1] == b : b == '\\';
            default -> pattern[p] == b;
        };
    }

    /** The index after the token at {@code p}. */
    private int tokenEnd(int p) {
        return switch (pattern[p]) {
            case '[' -> classEnd(p) + 1;
            case '\\' -> Math.min(p + 2, pattern.length);
            default -> p + 1;
        };
    }

    /** The index of the {@code ]} closing the class opened at {@code open} (or the pattern's last index). */
    private int classEnd(int open) {
        int i = open + 1;
        if (i < pattern.length && pattern[i] == '^') {
            i++;
        }
        while (i < pattern.length && pattern[i] != ']') {
            i += pattern[i] == '\\' && i + 1 < pattern.length ? 2 : 1;
        }
        return Math.min(i, pattern.length - 1);
    }

    private boolean inClass(int from, int close, byte b) {
        boolean negated = from < close && pattern[from] == '^';
        int i = negated ? from + 1 : from;
        boolean found = false;
        int end = close < pattern.length && pattern[close] == ']' ? close : close + 1;
        while (i < end) {
            if (pattern[i] == '\\' && i + 1 < end) {
                found |= pattern[i + 1] == b;
                i += 2;
            } else if (i + 2 < end && pattern[i + 1] == '-') {
                int low = Math.min(pattern[i] & 0xff, pattern[i + 2] & 0xff);
                int high = Math.max(pattern[i] & 0xff, pattern[i + 2] & 0xff);
                found |= (b & 0xff) >= low && (b & 0xff) <= high;
                i += 3;
            } else {
                found |= pattern[i] == b;
                i++;
            }
        }
        return negated != found;
    }
}
