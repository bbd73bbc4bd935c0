package com.metropia.portal.messaging.lint;

import java.util.Arrays;
import java.util.Comparator;

import org.apache.camel.catalog.SuggestionStrategy;

/** "did you mean ...?" for an unknown endpoint option: the known names within two edits, closest first. */
final class Suggestions implements SuggestionStrategy {

    @Override
    public String[] suggestEndpointOptions(java.util.Set<String> names, String unknownOption) {
        String unknown = unknownOption.toLowerCase();
        String[] close = names.stream()
                .filter(name -> distance(name.toLowerCase(), unknown) <= 2)
                .sorted(Comparator.comparingInt(name -> distance(name.toLowerCase(), unknown)))
                .limit(3).toArray(String[]::new);
        return close.length == 0 ? null : close;
    }

    /** Levenshtein distance. */
    static int distance(String a, String b) {
        int[] previous = new int[b.length() + 1];
        int[] current = new int[b.length() + 1];
        Arrays.setAll(previous, i -> i);
        for (int i = 1; i <= a.length(); i++) {
            current[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int substitution = previous[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
                current[j] = Math.min(substitution, Math.min(previous[j], current[j - 1]) + 1);
            }
            int[] swap = previous;
            previous = current;
            current = swap;
        }
        return previous[b.length()];
    }
}
