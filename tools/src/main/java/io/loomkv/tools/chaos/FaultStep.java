package io.loomkv.tools.chaos;

/**
 * One entry of the fault schedule.
 *
 * @param number position in the schedule, from 1
 * @param kind what to do
 * @param holdMillis how long the fault stays before it is healed
 * @param quietMillis how long to run without faults after the heal
 * @param targetSeed chooses the targets when the step runs (who leads is only known then)
 */
record FaultStep(int number, FaultKind kind, long holdMillis, long quietMillis, long targetSeed) {
    @Override
    public String toString() {
        return String.format("#%d %s hold %.1f s, then %.1f s quiet", number, kind, holdMillis / 1000.0, quietMillis / 1000.0);
    }
}
