package io.loomkv.net.resp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import com.google.protobuf.ByteString;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** Redis's glob rules, as KEYS and SCAN MATCH apply them. */
class GlobPatternTest {
    private static boolean matches(String pattern, String key) {
        return new GlobPattern(ByteString.copyFromUtf8(pattern)).matches(ByteString.copyFromUtf8(key));
    }

    @Test
    void starsQuestionMarksAndLiterals() {
        assertTrue(matches("*", ""));
        assertTrue(matches("*", "anything"));
        assertTrue(matches("h?llo", "hello"));
        assertFalse(matches("h?llo", "hllo"));
        assertTrue(matches("h*llo", "hllo"));
        assertTrue(matches("h*llo", "heeeello"));
        assertTrue(matches("a*b*c", "aXbYbZc"));
        assertFalse(matches("a*b*c", "aXbYbZ"));
        assertTrue(matches("exact", "exact"));
        assertFalse(matches("exact", "exactly"));
    }

    @Test
    void classesRangesNegationAndEscapes() {
        assertTrue(matches("h[ae]llo", "hello"));
        assertTrue(matches("h[ae]llo", "hallo"));
        assertFalse(matches("h[ae]llo", "hillo"));
        assertTrue(matches("h[^e]llo", "hallo"));
        assertFalse(matches("h[^e]llo", "hello"));
        assertTrue(matches("h[a-b]llo", "hbllo"));
        assertTrue(matches("h[b-a]llo", "hallo"), "a reversed range is swapped, as in Redis");
        assertFalse(matches("h[a-b]llo", "hcllo"));
        assertTrue(matches("a\\*b", "a*b"));
        assertFalse(matches("a\\*b", "aXb"));
        assertTrue(matches("[\\]]", "]"));
        assertTrue(matches("x[abc", "xa"), "an unclosed class runs to the end");
    }

    @Test
    void theLiteralPrefixStopsAtTheFirstSpecialByte() {
        assertEquals("user:", new GlobPattern(ByteString.copyFromUtf8("user:*")).literalPrefix().toStringUtf8());
        assertEquals("a", new GlobPattern(ByteString.copyFromUtf8("a?c")).literalPrefix().toStringUtf8());
        assertEquals("", new GlobPattern(ByteString.copyFromUtf8("[ab]*")).literalPrefix().toStringUtf8());
        assertEquals("x", new GlobPattern(ByteString.copyFromUtf8("x\\*")).literalPrefix().toStringUtf8());
    }

    @Test
    void manyStarsOnALongKeyStayFast() {
        String pattern = "*a".repeat(30) + "b";
        String key = "a".repeat(10_000);
        assertTimeoutPreemptively(Duration.ofSeconds(5), () -> assertFalse(matches(pattern, key)));
    }
}
